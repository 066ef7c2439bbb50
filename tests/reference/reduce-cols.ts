// float64 reference column sum: out[c] = sum_r x[r,c]. x is (R, C).
export function reduceColsRef(x: ArrayLike<number>, R: number, C: number): Float64Array {
  const out = new Float64Array(C);
  for (let r = 0; r < R; r++) for (let c = 0; c < C; c++) out[c] += x[r * C + c];
  return out;
}
