// Metrics: one row per (run, name, step). Logging the same step again (after resuming
// from an earlier checkpoint) overwrites the old value instead of duplicating it.
import Dexie from 'dexie';
import type { PlantuneDb } from './db';
import { guardStorage } from './errors';

export interface MetricRecord {
  runId: string;
  step: number;
  name: string;
  value: number;
  /** Wall-clock time of logging, ms since the epoch. */
  time: number;
}

export interface MetricPoint {
  step: number;
  value: number;
}

/** Logs several metrics of one step, e.g. { loss: 1.23, "tokens/s": 5400 }. */
export function logMetrics(
  db: PlantuneDb,
  runId: string,
  step: number,
  values: Record<string, number>,
  time = Date.now(),
): Promise<void> {
  const rows = Object.entries(values).map(([name, value]) => ({ runId, step, name, value, time }));
  return guardStorage(`metrics of run "${runId}"`, async () => {
    await db.metrics.bulkPut(rows);
  });
}

/** One metric over the run, by increasing step (a chart series). */
export function metricSeries(db: PlantuneDb, runId: string, name: string): Promise<MetricPoint[]> {
  return guardStorage('metrics', async () => {
    const rows = await db.metrics
      .where('[runId+name+step]')
      .between([runId, name, Dexie.minKey], [runId, name, Dexie.maxKey])
      .toArray();
    return rows.map(({ step, value }) => ({ step, value }));
  });
}

/** All metrics logged at one step, by name. */
export function metricsAtStep(db: PlantuneDb, runId: string, step: number): Promise<Record<string, number>> {
  return guardStorage('metrics', async () => {
    const rows = await db.metrics.where('[runId+step]').equals([runId, step]).toArray();
    return Object.fromEntries(rows.map(({ name, value }) => [name, value]));
  });
}

/** Every metric of a run, by step then name (for export). */
export function runMetrics(db: PlantuneDb, runId: string): Promise<MetricRecord[]> {
  // Entries of the [runId+step] index with equal keys come in primary-key order, i.e. by name.
  return guardStorage('metrics', () =>
    db.metrics.where('[runId+step]').between([runId, Dexie.minKey], [runId, Dexie.maxKey]).toArray(),
  );
}
