// Metric series for the charts: points by increasing step, merged from the stored history and live
// events, and aligned on one step axis for uPlot.

export interface Point {
  step: number;
  value: number;
}

/**
 * Adds a point at `step`, dropping any point at the same or a later step first: a run resumed from an
 * earlier checkpoint (after the tab was closed) trains those steps again, and the new values win.
 */
export function appendPoint(series: Point[], step: number, value: number): void {
  let keep = series.length;
  while (keep > 0 && series[keep - 1].step >= step) keep--;
  series.length = keep;
  series.push({ step, value });
}

/** Appends every point of `more` (in step order) to `series` with `appendPoint`'s rule. */
export function mergeSeries(series: Point[], more: readonly Point[]): void {
  for (const p of more) appendPoint(series, p.step, p.value);
}

/** `[steps, values of series 0, values of series 1, …]` over the union of the steps; null where a series has no point. */
export type Aligned = [number[], ...(number | null)[][]];

/** Aligns series (each sorted by step) on the sorted union of their steps. */
export function alignSeries(series: readonly (readonly Point[])[]): Aligned {
  const steps = [...new Set(series.flatMap((s) => s.map((p) => p.step)))].sort((a, b) => a - b);
  const index = new Map(steps.map((s, i) => [s, i]));
  const columns = series.map((s) => {
    const column: (number | null)[] = new Array<number | null>(steps.length).fill(null);
    for (const p of s) column[index.get(p.step)!] = Number.isFinite(p.value) ? p.value : null;
    return column;
  });
  return [steps, ...columns];
}

/** mean ± std as two series (upper, lower) over the steps both have. */
export function band(mean: readonly Point[], std: readonly Point[]): [Point[], Point[]] {
  const stdAt = new Map(std.map((p) => [p.step, p.value]));
  const upper: Point[] = [];
  const lower: Point[] = [];
  for (const p of mean) {
    const s = stdAt.get(p.step);
    if (s === undefined) continue;
    upper.push({ step: p.step, value: p.value + s });
    lower.push({ step: p.step, value: p.value - s });
  }
  return [upper, lower];
}
