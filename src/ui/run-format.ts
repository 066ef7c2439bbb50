// How the page writes run figures: durations, metric values, and a sentence describing a series
// (the text alternative of a chart).
import type { Point } from './series';

/** Seconds as "45 s", "3 min 05 s", "2 h 07 min"; "—" when unknown. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '—';
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  const minutes = Math.round(s / 60);
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')} min`;
}

/** A number with `digits` significant digits, without exponent for everyday magnitudes. */
export function significant(value: number, digits = 4): string {
  if (!Number.isFinite(value)) return String(value);
  if (value === 0) return '0';
  const magnitude = Math.abs(value);
  if (magnitude >= 1e-3 && magnitude < 1e6) return String(Number(value.toPrecision(digits)));
  return value.toExponential(digits - 1);
}

/** 0.25 -> "25.0%". */
export const percent = (fraction: number): string => (Number.isFinite(fraction) ? `${(fraction * 100).toFixed(1)}%` : String(fraction));

/** A learning rate: 0.0003 -> "3.00e-4". */
export const learningRate = (lr: number): string => (lr === 0 ? '0' : lr.toExponential(2));

/** Tokens per second: 213.6 -> "214", 3.14 -> "3.1". */
export const rate = (perSecond: number): string => (perSecond >= 100 ? Math.round(perSecond).toLocaleString('en-US') : significant(perSecond, 2));

/**
 * One sentence about a series for assistive technology: "No points yet." or
 * "10 points from step 1 to step 10; latest 1.23 at step 10; lowest 1.1 at step 8; highest 3.7 at step 1."
 */
export function describeSeries(points: readonly Point[], format: (v: number) => string): string {
  const finite = points.filter((p) => Number.isFinite(p.value));
  if (finite.length === 0) return 'No points yet.';
  const last = points[points.length - 1];
  if (points.length === 1) return `1 point: ${format(last.value)} at step ${last.step}.`;
  const head = `${points.length} points from step ${points[0].step} to step ${last.step}; latest ${format(last.value)} at step ${last.step}`;
  const low = finite.reduce((a, b) => (b.value < a.value ? b : a));
  const high = finite.reduce((a, b) => (b.value > a.value ? b : a));
  return `${head}; lowest ${format(low.value)} at step ${low.step}; highest ${format(high.value)} at step ${high.step}.`;
}
