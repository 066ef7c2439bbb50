// float64 reference RMSNorm (Llama: out = x / sqrt(mean(x^2) + eps) * weight). inp is (N, C).

export function rmsnormForwardRef(inp: ArrayLike<number>, weight: ArrayLike<number>, N: number, C: number, eps: number): { out: Float64Array; rstd: Float64Array } {
  const out = new Float64Array(N * C);
  const rstd = new Float64Array(N);
  for (let n = 0; n < N; n++) {
    let s = 0;
    for (let c = 0; c < C; c++) s += inp[n * C + c] ** 2;
    const rs = 1 / Math.sqrt(s / C + eps);
    for (let c = 0; c < C; c++) out[n * C + c] = inp[n * C + c] * rs * weight[c];
    rstd[n] = rs;
  }
  return { out, rstd };
}

export function rmsnormBackwardRef(
  dout: ArrayLike<number>, inp: ArrayLike<number>, weight: ArrayLike<number>, rstd: ArrayLike<number>, N: number, C: number,
): { dinp: Float64Array; dweight: Float64Array } {
  const dinp = new Float64Array(N * C);
  const dweight = new Float64Array(C);
  for (let n = 0; n < N; n++) {
    let b = 0;
    for (let c = 0; c < C; c++) b += weight[c] * dout[n * C + c] * inp[n * C + c] * rstd[n];
    b /= C;
    for (let c = 0; c < C; c++) {
      const i = n * C + c;
      const norm = inp[i] * rstd[n];
      dinp[i] = (weight[c] * dout[i] - norm * b) * rstd[n];
      dweight[c] += dout[i] * norm;
    }
  }
  return { dinp, dweight };
}
