// Reading the Data form's inputs: numbers checked here, with a message that says what is allowed.

/** Marks an input valid or not (for assistive technology and the red outline). */
function mark(input: HTMLInputElement, ok: boolean): boolean {
  if (ok) input.removeAttribute('aria-invalid');
  else input.setAttribute('aria-invalid', 'true');
  return ok;
}

/** The eval fraction and seed, or the message to show when one is not valid. */
export function parseSplitInputs(evalInput: HTMLInputElement, seedInput: HTMLInputElement): { evalFraction: number; seed: number } | string {
  const evalFraction = Number(evalInput.value);
  const seed = Number(seedInput.value);
  const fractionOk = mark(evalInput, evalInput.value.trim() !== '' && evalFraction >= 0 && evalFraction <= 1);
  const seedOk = mark(seedInput, seedInput.value.trim() !== '' && Number.isInteger(seed) && seed >= 0 && seed <= 0xffffffff);
  if (!fractionOk) {
    evalInput.focus();
    return 'The eval fraction must be a number from 0 to 1 (e.g. 0.1 holds out 10% of the problems).';
  }
  if (!seedOk) {
    seedInput.focus();
    return 'The seed must be a whole number from 0 to 4294967295.';
  }
  return { evalFraction, seed };
}

/** A dataset name as a file-name stem. */
export function csvSafeName(name: string): string {
  return name.replace(/[^\w.-]+/g, '_').replace(/^_+|_+$/g, '') || 'dataset';
}
