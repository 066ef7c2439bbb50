// float64 reference of matmul: c[b] = alpha * op(a[b]) * op(b[b]) (+ bias) (+ c0[b]).
// a is (M,K) [(K,M) when transA], b is (K,N) [(N,K) when transB], per batch entry; an operand
// given for one batch entry only (batchedA/B false) is shared by all.
export interface MatmulRefOptions {
  transA?: boolean;
  transB?: boolean;
  batch?: number;
  batchedA?: boolean;
  batchedB?: boolean;
  alpha?: number;
  bias?: ArrayLike<number>;
  /** The previous C (batch, M, N) to accumulate into. */
  c0?: ArrayLike<number>;
}

export function matmulRef(a: ArrayLike<number>, b: ArrayLike<number>, M: number, N: number, K: number, o: MatmulRefOptions = {}): Float64Array {
  const batch = o.batch ?? 1;
  const alpha = o.alpha ?? 1;
  const out = new Float64Array(batch * M * N);
  for (let z = 0; z < batch; z++) {
    const ao = o.batchedA ? z * M * K : 0;
    const bo = o.batchedB ? z * K * N : 0;
    for (let m = 0; m < M; m++) {
      for (let n = 0; n < N; n++) {
        let s = 0;
        for (let k = 0; k < K; k++) {
          const av = a[ao + (o.transA ? k * M + m : m * K + k)];
          const bv = b[bo + (o.transB ? n * K + k : k * N + n)];
          s += av * bv;
        }
        const i = (z * M + m) * N + n;
        out[i] = alpha * s + (o.bias ? o.bias[n] : 0) + (o.c0 ? o.c0[i] : 0);
      }
    }
  }
  return out;
}
