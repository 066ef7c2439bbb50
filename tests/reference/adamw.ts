// float64 reference AdamW step (torch.optim.AdamW semantics) and global gradient norm.

export interface AdamWState {
  params: Float64Array;
  m: Float64Array;
  v: Float64Array;
}

/** One step, in place. `decay(i)` says whether element i gets weight decay; grads are multiplied by gradScale first. */
export function adamwStepRef(
  s: AdamWState, grads: ArrayLike<number>, gradScale: number, step: number,
  hp: { lr: number; beta1: number; beta2: number; eps: number; weightDecay: number }, decay: (i: number) => boolean,
): void {
  for (let i = 0; i < s.params.length; i++) {
    const g = grads[i] * gradScale;
    s.m[i] = hp.beta1 * s.m[i] + (1 - hp.beta1) * g;
    s.v[i] = hp.beta2 * s.v[i] + (1 - hp.beta2) * g * g;
    const mhat = s.m[i] / (1 - hp.beta1 ** step);
    const vhat = s.v[i] / (1 - hp.beta2 ** step);
    s.params[i] -= hp.lr * (mhat / (Math.sqrt(vhat) + hp.eps) + (decay(i) ? hp.weightDecay * s.params[i] : 0));
  }
}

export function gradNormRef(grads: ArrayLike<number>, maxNorm: number): { norm: number; scale: number } {
  let s = 0;
  for (let i = 0; i < grads.length; i++) s += grads[i] * grads[i];
  const norm = Math.sqrt(s);
  return { norm, scale: Math.min(1, maxNorm / (norm + 1e-6)) };
}
