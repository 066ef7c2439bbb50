// Workgroup grids: counts above maxComputeWorkgroupsPerDimension fold into a 2D grid.
// Shaders recover the flat index as `wid.x + wid.y * nwg.x` (and skip ids >= the count).

export function grid1d(count: number, maxPerDim: number): [number, number] {
  if (count <= maxPerDim) return [count, 1];
  const y = Math.ceil(count / maxPerDim);
  return [Math.ceil(count / y), y];
}

export const ceilDiv = (a: number, b: number): number => Math.ceil(a / b);
