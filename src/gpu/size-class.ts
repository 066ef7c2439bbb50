// The sizes the buffer pool allocates: a tensor of n bytes gets a buffer of sizeClass(n) bytes.
// Kept apart from the pool (which needs WebGPU) so the memory estimate can use it anywhere.

/** Size class: multiples of 256 B up to 4 KiB, then steps of 1/8 of the next power of two (<= 12.5% waste). */
export function sizeClass(bytes: number): number {
  const n = Math.max(256, Math.ceil(bytes / 4) * 4);
  if (n <= 4096) return Math.ceil(n / 256) * 256;
  const step = 2 ** Math.floor(Math.log2(n - 1)) / 8;
  return Math.ceil(n / step) * step;
}
