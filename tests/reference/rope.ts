// float64 reference of rotary position embedding, rotate-half convention. x is (B, T, H, HS);
// row t of sequence b is at position pos[b] + t (pos defaults to zeros).
export function ropeRef(x: ArrayLike<number>, B: number, T: number, H: number, HS: number, theta: number, pos?: ArrayLike<number>, backward = false): Float64Array {
  const half = HS / 2;
  const y = new Float64Array(x.length);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const at = (pos ? pos[b] : 0) + t;
      for (let h = 0; h < H; h++) {
        const o = ((b * T + t) * H + h) * HS;
        for (let i = 0; i < half; i++) {
          const angle = at * Math.pow(theta, (-2 * i) / HS);
          const c = Math.cos(angle);
          // The backward is the transpose rotation: the same with sin negated.
          const s = backward ? -Math.sin(angle) : Math.sin(angle);
          y[o + i] = x[o + i] * c - x[o + i + half] * s;
          y[o + i + half] = x[o + i + half] * c + x[o + i] * s;
        }
      }
    }
  }
  return y;
}
