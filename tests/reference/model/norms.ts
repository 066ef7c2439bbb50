// float64 reference: LayerNorm (GPT-2) and RMSNorm (Llama family), forward and backward.
// Backward accumulates (+=) into dinp, dweight, dbias.

// inp is (N,C), weight and bias are (C), out is (N,C); saves mean and rstd, each (N)
export function layernormForward(out: Float64Array, mean: Float64Array, rstd: Float64Array, inp: Float64Array, weight: Float64Array, bias: Float64Array, N: number, C: number, eps: number): void {
  for (let n = 0; n < N; n++) {
    const x = n * C;
    let m = 0;
    for (let i = 0; i < C; i++) m += inp[x + i];
    m /= C;
    let v = 0;
    for (let i = 0; i < C; i++) v += (inp[x + i] - m) ** 2;
    v /= C;
    const s = 1 / Math.sqrt(v + eps);
    for (let i = 0; i < C; i++) {
      // out = (inp - mean) * rstd * weight + bias
      out[x + i] = (inp[x + i] - m) * s * weight[i] + bias[i];
    }
    mean[n] = m;
    rstd[n] = s;
  }
}

// dout is (N,C); dinp is (N,C), dweight and dbias are (C)
export function layernormBackward(dinp: Float64Array, dweight: Float64Array, dbias: Float64Array, dout: Float64Array, inp: Float64Array, weight: Float64Array, mean: Float64Array, rstd: Float64Array, N: number, C: number): void {
  for (let n = 0; n < N; n++) {
    const x = n * C;
    const m = mean[n];
    const s = rstd[n];
    // norm = (inp - mean) * rstd; out = norm * weight + bias
    let dnormMean = 0;
    let dnormNormMean = 0;
    for (let i = 0; i < C; i++) {
      const norm = (inp[x + i] - m) * s;
      const dnorm = weight[i] * dout[x + i];
      dnormMean += dnorm;
      dnormNormMean += dnorm * norm;
    }
    dnormMean /= C;
    dnormNormMean /= C;
    for (let i = 0; i < C; i++) {
      const norm = (inp[x + i] - m) * s;
      const dnorm = weight[i] * dout[x + i];
      dbias[i] += dout[x + i];
      dweight[i] += norm * dout[x + i];
      // mean and rstd depend on every inp[n,:]: dinp = rstd * (dnorm - mean(dnorm) - norm * mean(dnorm * norm))
      dinp[x + i] += s * (dnorm - dnormMean - norm * dnormNormMean);
    }
  }
}

// inp is (N,C), weight is (C), out is (N,C); saves rstd (N)
export function rmsnormForward(out: Float64Array, rstd: Float64Array, inp: Float64Array, weight: Float64Array, N: number, C: number, eps: number): void {
  for (let n = 0; n < N; n++) {
    const x = n * C;
    let ms = 0;
    for (let i = 0; i < C; i++) ms += inp[x + i] * inp[x + i];
    const s = 1 / Math.sqrt(ms / C + eps);
    // out = inp * rstd * weight, rstd = 1/sqrt(mean(inp²) + eps)
    for (let i = 0; i < C; i++) out[x + i] = inp[x + i] * s * weight[i];
    rstd[n] = s;
  }
}

// dout is (N,C); dinp is (N,C), dweight is (C)
export function rmsnormBackward(dinp: Float64Array, dweight: Float64Array, dout: Float64Array, inp: Float64Array, weight: Float64Array, rstd: Float64Array, N: number, C: number): void {
  for (let n = 0; n < N; n++) {
    const x = n * C;
    const s = rstd[n];
    // out = inp * rstd * weight; d rstd / d inp[j] = -rstd³ * inp[j] / C
    let dot = 0;
    for (let i = 0; i < C; i++) dot += weight[i] * dout[x + i] * inp[x + i];
    dot /= C;
    for (let i = 0; i < C; i++) {
      dweight[i] += inp[x + i] * s * dout[x + i];
      dinp[x + i] += s * (weight[i] * dout[x + i] - inp[x + i] * s * s * dot);
    }
  }
}
