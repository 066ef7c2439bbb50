// Evaluations: one summary per (run, step) — greedy accuracy, accuracy by plan length, pass@k and the
// sample completions. Storing the same step again (after resuming from an earlier checkpoint)
// replaces the old summary. Deleted with the run.
import Dexie from 'dexie';
import type { EvalSummary } from '../worker/run-types';
import type { PlantuneDb } from './db';
import { guardStorage } from './errors';

export interface EvalRecord extends EvalSummary {
  runId: string;
}

/** Stores a copy of `summary` under [runId+step], replacing an evaluation of the same step. */
export async function storeEval(db: PlantuneDb, runId: string, summary: EvalSummary): Promise<void> {
  if (!Number.isInteger(summary.step) || summary.step < 0) throw new RangeError(`an evaluation's step must be a non-negative integer, got ${summary.step}`);
  // structuredClone: a caller that keeps mutating its summary must not change what was stored.
  const record: EvalRecord = { ...structuredClone(summary), runId };
  await guardStorage(`evaluation at step ${summary.step} of run "${runId}"`, async () => {
    await db.evals.put(record);
  });
}

/** The run's evaluations by increasing step (the first is "before training", the last "after"). */
export function listEvals(db: PlantuneDb, runId: string): Promise<EvalSummary[]> {
  return guardStorage('evaluations', async () => {
    const rows = await db.evals.where('[runId+step]').between([runId, Dexie.minKey], [runId, Dexie.maxKey]).toArray();
    return rows.map(({ runId: _runId, ...summary }) => summary);
  });
}
