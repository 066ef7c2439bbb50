// float64 references for GELU (tanh approximation, GPT-2) and SwiGLU (Llama), elementwise.

const S = Math.sqrt(2 / Math.PI);

export function geluRef(x: ArrayLike<number>): Float64Array {
  return Float64Array.from(x, (v) => 0.5 * v * (1 + Math.tanh(S * (v + 0.044715 * v ** 3))));
}

export function geluBackwardRef(x: ArrayLike<number>, dout: ArrayLike<number>): Float64Array {
  return Float64Array.from(x, (v, i) => {
    const t = Math.tanh(S * (v + 0.044715 * v ** 3));
    return (0.5 * (1 + t) + 0.5 * v * (1 - t * t) * S * (1 + 3 * 0.044715 * v * v)) * dout[i];
  });
}

const sigmoid = (g: number) => 1 / (1 + Math.exp(-g));

export function swigluRef(gate: ArrayLike<number>, up: ArrayLike<number>): Float64Array {
  return Float64Array.from(gate, (g, i) => g * sigmoid(g) * up[i]);
}

export function swigluBackwardRef(gate: ArrayLike<number>, up: ArrayLike<number>, dout: ArrayLike<number>): { dgate: Float64Array; dup: Float64Array } {
  const dgate = Float64Array.from(gate, (g, i) => {
    const s = sigmoid(g);
    return dout[i] * up[i] * s * (1 + g * (1 - s));
  });
  const dup = Float64Array.from(gate, (g, i) => dout[i] * g * sigmoid(g));
  return { dgate, dup };
}
