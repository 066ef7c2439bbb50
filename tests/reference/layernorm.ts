// float64 reference LayerNorm (llm.c layernorm_forward / layernorm_backward). inp is (N, C).

export interface LayerNormRef {
  out: Float64Array;
  mean: Float64Array;
  rstd: Float64Array;
}

export function layernormForwardRef(inp: ArrayLike<number>, weight: ArrayLike<number>, bias: ArrayLike<number>, N: number, C: number, eps: number): LayerNormRef {
  const out = new Float64Array(N * C);
  const mean = new Float64Array(N);
  const rstd = new Float64Array(N);
  for (let n = 0; n < N; n++) {
    let m = 0;
    for (let c = 0; c < C; c++) m += inp[n * C + c];
    m /= C;
    let v = 0;
    for (let c = 0; c < C; c++) v += (inp[n * C + c] - m) ** 2;
    const rs = 1 / Math.sqrt(v / C + eps);
    for (let c = 0; c < C; c++) out[n * C + c] = (inp[n * C + c] - m) * rs * weight[c] + bias[c];
    mean[n] = m;
    rstd[n] = rs;
  }
  return { out, mean, rstd };
}

export interface LayerNormGradRef {
  dinp: Float64Array;
  dweight: Float64Array;
  dbias: Float64Array;
}

export function layernormBackwardRef(
  dout: ArrayLike<number>, inp: ArrayLike<number>, weight: ArrayLike<number>, mean: ArrayLike<number>, rstd: ArrayLike<number>, N: number, C: number,
): LayerNormGradRef {
  const dinp = new Float64Array(N * C);
  const dweight = new Float64Array(C);
  const dbias = new Float64Array(C);
  for (let n = 0; n < N; n++) {
    let a = 0;
    let b = 0;
    for (let c = 0; c < C; c++) {
      const dnorm = weight[c] * dout[n * C + c];
      a += dnorm;
      b += dnorm * (inp[n * C + c] - mean[n]) * rstd[n];
    }
    a /= C;
    b /= C;
    for (let c = 0; c < C; c++) {
      const i = n * C + c;
      const norm = (inp[i] - mean[n]) * rstd[n];
      dinp[i] = (weight[c] * dout[i] - a - norm * b) * rstd[n];
      dweight[c] += dout[i] * norm;
      dbias[c] += dout[i];
    }
  }
  return { dinp, dweight, dbias };
}
