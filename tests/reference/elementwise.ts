// float64 reference for the strided 2D copy (the other elementwise ops are one-liners in the test).

export function copy2dRef(src: ArrayLike<number>, dst: ArrayLike<number>, rows: number, cols: number, srcStride: number, dstStride: number): Float64Array {
  const out = Float64Array.from(dst);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[r * dstStride + c] = src[r * srcStride + c];
  return out;
}
