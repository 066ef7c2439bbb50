// float64 reference: out[r] = sum_n x[r,n] (or x[r,n]^2). x is (R, N).
export function reduceRowsRef(x: ArrayLike<number>, R: number, N: number, op: 'sum' | 'sumsq'): Float64Array {
  const out = new Float64Array(R);
  for (let r = 0; r < R; r++) {
    let s = 0;
    for (let n = 0; n < N; n++) {
      const v = x[r * N + n];
      s += op === 'sumsq' ? v * v : v;
    }
    out[r] = s;
  }
  return out;
}
