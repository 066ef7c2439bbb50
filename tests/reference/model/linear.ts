// float64 reference: token/position embedding, linear layers and residual adds, forward and
// backward side by side (llm.c train_gpt2.c style). Backward functions accumulate (+=) into
// parameter gradients and into input gradients, so callers zero them once.

// out is (B,T,C), tokens is (B,T), wte is (V,C), wpe is (maxT,C) or null (no learned positions)
export function encoderForward(out: Float64Array, tokens: ArrayLike<number>, wte: Float64Array, wpe: Float64Array | null, B: number, T: number, C: number): void {
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const o = (b * T + t) * C;
      const ix = tokens[b * T + t];
      for (let i = 0; i < C; i++) {
        // out[b,t,:] = wte[ix,:] + wpe[t,:]
        out[o + i] = wte[ix * C + i] + (wpe ? wpe[t * C + i] : 0);
      }
    }
  }
}

// dout is (B,T,C), dwte is (V,C), dwpe is (maxT,C) or null
export function encoderBackward(dwte: Float64Array, dwpe: Float64Array | null, dout: Float64Array, tokens: ArrayLike<number>, B: number, T: number, C: number): void {
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const o = (b * T + t) * C;
      const ix = tokens[b * T + t];
      for (let i = 0; i < C; i++) {
        // out[b,t,:] = wte[ix,:] + wpe[t,:]
        dwte[ix * C + i] += dout[o + i];
        if (dwpe) dwpe[t * C + i] += dout[o + i];
      }
    }
  }
}

// inp is (N,IN), weight is (OUT,IN), bias is (OUT) or null, out is (N,OUT): out = inp·weightᵀ + bias
export function matmulForward(out: Float64Array, inp: Float64Array, weight: Float64Array, bias: Float64Array | null, N: number, IN: number, OUT: number): void {
  for (let n = 0; n < N; n++) {
    for (let o = 0; o < OUT; o++) {
      let s = bias ? bias[o] : 0;
      for (let i = 0; i < IN; i++) s += inp[n * IN + i] * weight[o * IN + i];
      out[n * OUT + o] = s;
    }
  }
}

// dout is (N,OUT); dinp is (N,IN), dweight is (OUT,IN), dbias is (OUT) or null; all accumulated into
export function matmulBackward(dinp: Float64Array, dweight: Float64Array, dbias: Float64Array | null, dout: Float64Array, inp: Float64Array, weight: Float64Array, N: number, IN: number, OUT: number): void {
  for (let n = 0; n < N; n++) {
    for (let o = 0; o < OUT; o++) {
      const d = dout[n * OUT + o];
      // out[n,o] = bias[o] + Σ_i inp[n,i] * weight[o,i]
      if (dbias) dbias[o] += d;
      for (let i = 0; i < IN; i++) {
        dinp[n * IN + i] += weight[o * IN + i] * d;
        dweight[o * IN + i] += inp[n * IN + i] * d;
      }
    }
  }
}

// a, b, out are (N): out = a + b (the residual stream). Its backward passes dout to both inputs.
export function residualForward(out: Float64Array, a: Float64Array, b: Float64Array): void {
  for (let i = 0; i < out.length; i++) out[i] = a[i] + b[i];
}
