// float64 reference: softmax cross-entropy with per-token weights, forward and backward.
//
// loss = Σ_i w_i · nll_i / D, where nll_i = −log softmax(logits_i)[target_i] and D is
//   'mean'      (default) the number of unmasked tokens, #{i : w_i ≠ 0};
//   'sum'       1;
//   'weightSum' Σ_i |w_i| (reward-weighted BC: a weighted mean);
//   a number    that fixed divisor (e.g. the unmasked count of a whole accumulated batch).
// A token with w_i = 0 is masked: its target is not read and may be anything (e.g. −1).
// D = 0 (everything masked) gives loss 0 and zero gradients.

export type LossNorm = 'mean' | 'sum' | 'weightSum' | number;

export function lossDivisor(weights: ArrayLike<number>, norm: LossNorm): number {
  if (typeof norm === 'number') {
    if (!(norm > 0)) throw new Error(`loss divisor must be positive, got ${norm}`);
    return norm;
  }
  if (norm === 'sum') return 1;
  let d = 0;
  for (let i = 0; i < weights.length; i++) d += norm === 'mean' ? (weights[i] !== 0 ? 1 : 0) : Math.abs(weights[i]);
  return d;
}

// logits is (N,V), targets and weights are (N); nll is (N) (0 where masked), probs is (N,V) saved
// for the backward. Returns the loss.
export function crossEntropyForward(nll: Float64Array, probs: Float64Array, logits: Float64Array, targets: ArrayLike<number>, weights: ArrayLike<number>, N: number, V: number, divisor: number): number {
  let loss = 0;
  for (let n = 0; n < N; n++) {
    const o = n * V;
    let max = -Infinity;
    for (let i = 0; i < V; i++) max = Math.max(max, logits[o + i]);
    let sum = 0;
    for (let i = 0; i < V; i++) {
      probs[o + i] = Math.exp(logits[o + i] - max);
      sum += probs[o + i];
    }
    for (let i = 0; i < V; i++) probs[o + i] /= sum;
    nll[n] = 0;
    if (weights[n] === 0) continue;
    const tgt = targets[n];
    if (!Number.isInteger(tgt) || tgt < 0 || tgt >= V) throw new Error(`target ${tgt} at position ${n} is outside the vocabulary [0, ${V}) and its weight is not 0`);
    // nll = logsumexp(logits) − logits[target]
    nll[n] = Math.log(sum) + max - logits[o + tgt];
    loss += weights[n] * nll[n];
  }
  return divisor > 0 ? loss / divisor : 0;
}

// dlogits is (N,V), accumulated into
export function crossEntropyBackward(dlogits: Float64Array, probs: Float64Array, targets: ArrayLike<number>, weights: ArrayLike<number>, N: number, V: number, divisor: number): void {
  if (!(divisor > 0)) return;
  for (let n = 0; n < N; n++) {
    if (weights[n] === 0) continue;
    const o = n * V;
    const scale = weights[n] / divisor;
    // loss += w·(logsumexp(logits) − logits[target]) / D: d/dlogits = w·(probs − onehot(target)) / D
    for (let i = 0; i < V; i++) dlogits[o + i] += scale * (probs[o + i] - (i === targets[n] ? 1 : 0));
  }
}
