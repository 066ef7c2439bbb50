// Runs: one training run (SFT, GRPO or offline RL) with its configuration and status.
// Its checkpoints, metrics and evaluations are keyed by the run id and deleted with it.
import type { PlantuneDb } from './db';
import { guardStorage } from './errors';

export type RunMode = 'sft' | 'grpo' | 'filtered-bc' | 'reward-weighted-bc';
export type RunStatus = 'created' | 'running' | 'paused' | 'completed' | 'failed';

export interface RunRecord {
  id: string;
  name: string;
  mode: RunMode;
  /** The full training configuration (JSON), enough to resume or reproduce the run. */
  config: unknown;
  status: RunStatus;
  /** Why the run failed, when status is "failed". */
  error?: string;
  createdAt: number;
  updatedAt: number;
}

export type NewRun = Pick<RunRecord, 'id' | 'name' | 'mode' | 'config'> & Partial<Pick<RunRecord, 'status'>>;

/** Creates a run, or replaces one with the same id (keeping its creation time). */
export function putRun(db: PlantuneDb, run: NewRun): Promise<RunRecord> {
  return guardStorage(`run "${run.name}"`, () =>
    db.transaction('rw', db.runs, async () => {
      const now = Date.now();
      const existing = await db.runs.get(run.id);
      const record: RunRecord = { status: 'created', ...run, createdAt: existing?.createdAt ?? now, updatedAt: now };
      await db.runs.put(record);
      return record;
    }),
  );
}

/** Sets a run's status (and the error when it failed); throws if the run does not exist. */
export function setRunStatus(db: PlantuneDb, id: string, status: RunStatus, error?: string): Promise<RunRecord> {
  return guardStorage('run status', () =>
    db.transaction('rw', db.runs, async () => {
      const run = await db.runs.get(id);
      if (!run) throw new Error(`No run "${id}" in storage`);
      const record: RunRecord = { ...run, status, updatedAt: Date.now() };
      if (error === undefined) delete record.error;
      else record.error = error;
      await db.runs.put(record);
      return record;
    }),
  );
}

export function getRun(db: PlantuneDb, id: string): Promise<RunRecord | undefined> {
  return guardStorage('run', () => db.runs.get(id));
}

/** Newest first. */
export function listRuns(db: PlantuneDb): Promise<RunRecord[]> {
  return guardStorage('runs', () => db.runs.orderBy('createdAt').reverse().toArray());
}

/** Deletes a run with all its checkpoints, metrics and evaluations, in one transaction. */
export function deleteRun(db: PlantuneDb, id: string): Promise<void> {
  return guardStorage('run deletion', () =>
    db.transaction('rw', [db.runs, db.checkpoints, db.checkpointFiles, db.metrics, db.evals], async () => {
      await db.checkpointFiles.where('runId').equals(id).delete();
      await db.checkpoints.where('runId').equals(id).delete();
      await db.metrics.where('runId').equals(id).delete();
      await db.evals.where('runId').equals(id).delete();
      await db.runs.delete(id);
    }),
  );
}
