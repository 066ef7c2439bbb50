// float64 reference token + position embedding (llm.c encoder_forward / encoder_backward).

export function embeddingForwardRef(
  tokens: ArrayLike<number>, wte: ArrayLike<number>, wpe: ArrayLike<number> | null, B: number, T: number, C: number, posOffset = 0,
): Float64Array {
  const out = new Float64Array(B * T * C);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const tok = tokens[b * T + t];
      for (let c = 0; c < C; c++) out[(b * T + t) * C + c] = wte[tok * C + c] + (wpe ? wpe[(posOffset + t) * C + c] : 0);
    }
  }
  return out;
}

/** Gradients of the forward above (dwpe over the first T rows of a (maxT, C) table). */
export function embeddingBackwardRef(
  dout: ArrayLike<number>, tokens: ArrayLike<number>, V: number, maxT: number, B: number, T: number, C: number,
): { dwte: Float64Array; dwpe: Float64Array } {
  const dwte = new Float64Array(V * C);
  const dwpe = new Float64Array(maxT * C);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const tok = tokens[b * T + t];
      for (let c = 0; c < C; c++) {
        const g = dout[(b * T + t) * C + c];
        dwte[tok * C + c] += g;
        dwpe[t * C + c] += g;
      }
    }
  }
  return { dwte, dwpe };
}
