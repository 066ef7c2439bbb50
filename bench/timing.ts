// Timing for benchmarks: each sample records `inner` repetitions of a kernel into one submit and
// waits for the GPU, so the per-dispatch cost is what a training step pays. Quotes medians.
import type { Engine } from '../src/gpu/engine';

export interface Timing {
  /** Median milliseconds per repetition. */
  medianMs: number;
  samples: number[];
}

export async function timeKernel(
  e: Engine,
  record: () => Promise<void>,
  opts: { warmup?: number; samples?: number; inner?: number } = {},
): Promise<Timing> {
  const { warmup = 1, samples = 5, inner = 1 } = opts;
  for (let i = 0; i < warmup; i++) {
    await record();
    e.rec.submit();
    await e.rec.done();
  }
  const ms: number[] = [];
  for (let s = 0; s < samples; s++) {
    for (let i = 0; i < inner; i++) await record();
    const t0 = performance.now();
    e.rec.submit();
    await e.rec.done();
    ms.push((performance.now() - t0) / inner);
  }
  return { medianMs: median(ms), samples: ms };
}

/**
 * Median ms of each run after one warm-up call each, from `rounds` rounds that call every run in
 * turn, so that a slow spell of a noisy machine hits all of them alike. A run returns its own ms.
 */
export async function interleavedMedians(runs: (() => Promise<number>)[], rounds: number): Promise<number[]> {
  for (const run of runs) await run();
  const ms: number[][] = runs.map(() => []);
  for (let r = 0; r < rounds; r++) for (const [i, run] of runs.entries()) ms[i].push(await run());
  return ms.map(median);
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** A fixed-width table row for the terminal. */
export function row(cells: (string | number)[], widths: number[]): string {
  return cells.map((c, i) => String(c).padEnd(widths[i] ?? 12)).join(' ');
}
