// float64 reference: the MLP activations, forward and backward. Backward accumulates (+=).

const GELU_SCALE = Math.sqrt(2 / Math.PI);

// inp and out are (N): GELU, tanh approximation (GPT-2's gelu_new)
export function geluForward(out: Float64Array, inp: Float64Array): void {
  for (let i = 0; i < inp.length; i++) {
    const x = inp[i];
    // out = 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))
    out[i] = 0.5 * x * (1 + Math.tanh(GELU_SCALE * (x + 0.044715 * x * x * x)));
  }
}

// dout, dinp are (N)
export function geluBackward(dinp: Float64Array, dout: Float64Array, inp: Float64Array): void {
  for (let i = 0; i < inp.length; i++) {
    const x = inp[i];
    const th = Math.tanh(GELU_SCALE * (x + 0.044715 * x * x * x));
    // out = 0.5·x·(1 + th), th = tanh(u), du/dx = √(2/π)·(1 + 3·0.044715·x²)
    const grad = 0.5 * (1 + th) + 0.5 * x * (1 - th * th) * GELU_SCALE * (1 + 3 * 0.044715 * x * x);
    dinp[i] += grad * dout[i];
  }
}

function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

// gate, up, out are (N): SwiGLU, out = silu(gate)·up, silu(g) = g·σ(g)
export function swigluForward(out: Float64Array, gate: Float64Array, up: Float64Array): void {
  for (let i = 0; i < out.length; i++) out[i] = gate[i] * sigmoid(gate[i]) * up[i];
}

// dout, dgate, dup are (N)
export function swigluBackward(dgate: Float64Array, dup: Float64Array, dout: Float64Array, gate: Float64Array, up: Float64Array): void {
  for (let i = 0; i < dout.length; i++) {
    const g = gate[i];
    const s = sigmoid(g);
    // out = g·σ(g)·up;  d silu/dg = σ(g)·(1 + g·(1 − σ(g)))
    dgate[i] += s * (1 + g * (1 - s)) * up[i] * dout[i];
    dup[i] += g * s * dout[i];
  }
}
