// A run's metrics as files: a wide CSV (one row per step, one column per metric) and a JSON document
// with the run, every metric series and every evaluation.
import { csvField } from '../ui/csv';
import type { EvalSummary, RunConfig, RunInfo, RunMetrics } from './run-types';

/**
 * `step`, then one column per metric name (in the order the names were first logged; names of the same
 * step alphabetically), one row per step that logged anything, by increasing step. A metric not logged
 * at a step leaves its cell empty. Numbers are written in full (they read back to the same double).
 */
export function metricsCsv(metrics: RunMetrics): string {
  const firstStep = (name: string) => metrics[name]![0]?.step ?? Infinity;
  const names = Object.keys(metrics).sort((a, b) => firstStep(a) - firstStep(b) || (a < b ? -1 : a > b ? 1 : 0));
  const rows = new Map<number, (number | undefined)[]>();
  names.forEach((name, col) => {
    for (const { step, value } of metrics[name]!) {
      let row = rows.get(step);
      if (!row) rows.set(step, (row = new Array<number | undefined>(names.length)));
      row[col] = value;
    }
  });
  const lines = [['step', ...names].map(csvField).join(',')];
  for (const step of [...rows.keys()].sort((a, b) => a - b)) {
    lines.push([step, ...rows.get(step)!].map((v) => (v === undefined ? '' : String(v))).join(','));
  }
  return lines.join('\r\n') + '\r\n';
}

export interface MetricsDocument {
  run: { id: string; name: string; mode: RunInfo['mode']; config: RunConfig };
  metrics: RunMetrics;
  evals: EvalSummary[];
}

/** metrics.json: { run: {id, name, mode, config}, metrics, evals }, indented. */
export function metricsJson(doc: MetricsDocument): string {
  return JSON.stringify(doc, null, 2) + '\n';
}
