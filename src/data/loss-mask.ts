// Token ids and loss mask for one SFT example: the prompt followed by the completion, with the loss on
// the completion only (or on both).

export interface MaskedExample {
  /** prompt ids then completion ids. */
  ids: Int32Array;
  /**
   * mask[i] = 1 when token i is a prediction target (the model, reading ids[0..i-1], is scored on
   * ids[i]). mask[0] is always 0: nothing precedes the first token.
   */
  mask: Uint8Array;
}

export function buildLossMask(
  promptIds: ArrayLike<number>,
  completionIds: ArrayLike<number>,
  options: { trainOnPrompt?: boolean } = {},
): MaskedExample {
  const ids = new Int32Array(promptIds.length + completionIds.length);
  ids.set(promptIds);
  ids.set(completionIds, promptIds.length);
  const mask = new Uint8Array(ids.length);
  mask.fill(1, options.trainOnPrompt ? 1 : promptIds.length);
  if (mask.length > 0) mask[0] = 0;
  return { ids, mask };
}
