// GRPO on the CPU side: group-normalised advantages and the per-token weights that turn the
// clipped-surrogate + KL loss into a weighted cross-entropy backward (the GPU's CE kernel
// computes d/dlogits of w·(−log p), so w = −∂loss/∂log p). Follows TRL's GRPOTrainer.

export type AdvantageScale = 'group' | 'batch' | 'none';

/**
 * rewards is (P·G) laid out prompt-major (G completions per prompt). Advantage = reward − group
 * mean, divided by the group std ('group'), the batch std ('batch'), or not at all ('none').
 */
export function groupAdvantages(rewards: ArrayLike<number>, G: number, scale: AdvantageScale, eps = 1e-4): Float64Array {
  const n = rewards.length;
  if (n % G !== 0) throw new RangeError(`groupAdvantages: ${n} rewards is not a multiple of the group size ${G}`);
  const adv = new Float64Array(n);
  const std = (xs: number[]): number => {
    const m = xs.reduce((a, b) => a + b, 0) / xs.length;
    // TRL uses the unbiased std (torch.std); a group of one has std 0.
    return xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1)) : 0;
  };
  const all = Array.from(rewards);
  const batchStd = std(all);
  for (let p = 0; p < n / G; p++) {
    const group = all.slice(p * G, (p + 1) * G);
    const mean = group.reduce((a, b) => a + b, 0) / G;
    const s = scale === 'group' ? std(group) : scale === 'batch' ? batchStd : 1;
    for (let g = 0; g < G; g++) adv[p * G + g] = scale === 'none' ? group[g] - mean : (group[g] - mean) / (s + eps);
  }
  return adv;
}

export interface GrpoLossConfig {
  /** Lower clip: ratio clipped to [1 − epsilon, 1 + epsilonHigh]. */
  epsilon: number;
  epsilonHigh: number;
  /** KL coefficient; 0 disables the KL term (and the reference forward). */
  beta: number;
}

export interface GrpoTokens {
  /** log π_θ(token) now, per completion token. */
  logp: ArrayLike<number>;
  /** log π_old(token) when the completions were sampled (equal to logp when num_iterations = 1). */
  oldLogp: ArrayLike<number>;
  /** log π_ref(token); ignored when beta = 0. */
  refLogp?: ArrayLike<number>;
  /** The sequence's advantage, repeated per token. */
  advantage: ArrayLike<number>;
  /** 1 for completion tokens that count, 0 for padding and truncated completions. */
  mask: ArrayLike<number>;
}

/**
 * Per-token loss (TRL token-level): ℓ_t = −min(r_t·A, clip(r_t)·A) + β·k3_t with
 * r_t = exp(logp − oldLogp) and k3_t = exp(ref − logp) − (ref − logp) − 1; the total is
 * Σ mask·ℓ_t / Σ mask. Returns that loss, the weights w_t = −∂loss/∂logp_t, and the clip fraction.
 */
export function grpoTokenWeights(t: GrpoTokens, cfg: GrpoLossConfig): { loss: number; weights: Float32Array; clipFraction: number; meanKl: number } {
  const n = t.logp.length;
  let count = 0;
  for (let i = 0; i < n; i++) count += t.mask[i] ? 1 : 0;
  const norm = 1 / Math.max(1, count);
  const weights = new Float32Array(n);
  let loss = 0;
  let clipped = 0;
  let kl = 0;
  for (let i = 0; i < n; i++) {
    if (!t.mask[i]) continue;
    const A = t.advantage[i];
    const r = Math.exp(t.logp[i] - t.oldLogp[i]);
    const rc = Math.min(Math.max(r, 1 - cfg.epsilon), 1 + cfg.epsilonHigh);
    // min(r·A, rc·A): the unclipped branch carries the gradient r·A; the clipped branch none.
    const unclippedActive = r * A <= rc * A;
    loss -= Math.min(r * A, rc * A) * norm;
    let dldlogp = unclippedActive ? -r * A : 0;
    if (!unclippedActive) clipped++;
    if (cfg.beta > 0) {
      const d = t.refLogp![i] - t.logp[i];
      const k3 = Math.exp(d) - d - 1;
      loss += cfg.beta * k3 * norm;
      kl += k3;
      dldlogp += cfg.beta * (1 - Math.exp(d)); // ∂k3/∂logp = −e^d + 1
    }
    weights[i] = -dldlogp * norm;
  }
  return { loss, weights, clipFraction: clipped * norm, meanKl: kl * norm };
}
