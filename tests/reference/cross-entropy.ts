// float64 reference fused softmax cross-entropy. logits is (N, V).

export interface CrossEntropyRef {
  loss: Float64Array;
  logprob: Float64Array;
  entropy: Float64Array;
  dlogits: Float64Array;
}

export function crossEntropyRef(logits: ArrayLike<number>, targets: ArrayLike<number>, weights: ArrayLike<number>, N: number, V: number, dscale: number): CrossEntropyRef {
  const loss = new Float64Array(N);
  const logprob = new Float64Array(N);
  const entropy = new Float64Array(N);
  const dlogits = new Float64Array(N * V);
  for (let n = 0; n < N; n++) {
    const row = Array.from({ length: V }, (_, v) => logits[n * V + v]);
    const m = Math.max(...row);
    const sum = row.reduce((s, x) => s + Math.exp(x - m), 0);
    const logZ = m + Math.log(sum);
    const t = targets[n];
    const w = weights[n];
    logprob[n] = row[t] - logZ;
    loss[n] = w === 0 ? 0 : w * (logZ - row[t]);
    let h = 0;
    for (let v = 0; v < V; v++) {
      const lp = row[v] - logZ;
      const pv = Math.exp(lp);
      if (pv > 0) h -= pv * lp;
      dlogits[n * V + v] = w === 0 ? 0 : w * dscale * (pv - (v === t ? 1 : 0));
    }
    entropy[n] = h;
  }
  return { loss, logprob, entropy, dlogits };
}
