// Comparison of a GPU result against a float64 reference.
// Passes when ‖out−ref‖/‖ref‖ <= tol (and, when `atol` is given, every |out−ref| <= atol + tol·|ref|).
// Non-finite values never pass unless the reference has the same non-finite value.

export interface CloseOptions {
  /** Relative error of the whole vector (default 1e-5, the f32 target). */
  tol?: number;
  /** Per-element absolute tolerance; when set, each element is checked too. */
  atol?: number;
}

export interface CloseReport {
  pass: boolean;
  relErr: number;
  maxAbs: number;
  maxRel: number;
  nonFinite: number;
  message: string;
}

export function compareClose(out: ArrayLike<number>, ref: ArrayLike<number>, opts: CloseOptions = {}): CloseReport {
  const tol = opts.tol ?? 1e-5;
  if (out.length !== ref.length) {
    return { pass: false, relErr: Infinity, maxAbs: Infinity, maxRel: Infinity, nonFinite: 0, message: `length ${out.length} != reference length ${ref.length}` };
  }
  let num = 0;
  let den = 0;
  let maxAbs = 0;
  let maxRel = 0;
  let nonFinite = 0;
  const bad: string[] = [];
  for (let i = 0; i < out.length; i++) {
    const o = out[i];
    const r = ref[i];
    if (!Number.isFinite(o) || !Number.isFinite(r)) {
      if (!Object.is(o, r)) {
        nonFinite++;
        if (bad.length < 5) bad.push(`[${i}] got ${o}, want ${r}`);
      }
      continue;
    }
    const d = Math.abs(o - r);
    num += d * d;
    den += r * r;
    maxAbs = Math.max(maxAbs, d);
    maxRel = Math.max(maxRel, d / Math.max(Math.abs(r), 1e-30));
    if (opts.atol !== undefined && d > opts.atol + tol * Math.abs(r) && bad.length < 5) bad.push(`[${i}] got ${o}, want ${r} (|diff| ${d.toExponential(2)})`);
  }
  const relErr = den > 0 ? Math.sqrt(num / den) : Math.sqrt(num);
  const elementFail = opts.atol !== undefined && bad.length > 0;
  const pass = nonFinite === 0 && relErr <= tol && !elementFail;
  const message =
    `relErr ${relErr.toExponential(3)} (tol ${tol}), max abs ${maxAbs.toExponential(3)}, max rel ${maxRel.toExponential(3)}, ` +
    `${nonFinite} non-finite mismatches, n=${out.length}` +
    (bad.length ? `; first mismatches: ${bad.join('; ')}` : '');
  return { pass, relErr, maxAbs, maxRel, nonFinite, message };
}
