// Checkpoints: everything needed to resume a run exactly at a step — parameter and
// optimizer-moment buffers (chunked files), plus the trainer's RNG, data-order and
// schedule state. At most `keepLast` checkpoints are kept per run.
import type { PlantuneDb } from './db';
import { DEFAULT_CHUNK_BYTES, type FileData, type StoredFile, chunkFiles, joinChunks, totalBytes } from './chunks';
import { guardStorage } from './errors';

export interface CheckpointRecord {
  runId: string;
  step: number;
  createdAt: number;
  /** The trainer's PRNG state (any structured-cloneable value, e.g. a Uint32Array). */
  rng: unknown;
  /** The order in which the run visits its examples and how far it got. */
  dataOrder: unknown;
  /** Learning-rate schedule and optimizer counters. */
  schedule: unknown;
  /** Buffers such as "params", "adam.m", "adam.v". */
  files: StoredFile[];
}

export type NewCheckpoint = Omit<CheckpointRecord, 'files' | 'createdAt'> & { createdAt?: number };

export interface SaveCheckpointOptions {
  /** Keep this many most recent checkpoints of the run (>= 1); older ones are deleted. */
  keepLast: number;
  chunkBytes?: number;
}

/**
 * Stores a checkpoint (replacing one at the same step) and deletes the run's older
 * checkpoints beyond `keepLast`, all in one transaction.
 */
export async function saveCheckpoint(
  db: PlantuneDb,
  checkpoint: NewCheckpoint,
  files: Record<string, FileData>,
  { keepLast, chunkBytes = DEFAULT_CHUNK_BYTES }: SaveCheckpointOptions,
): Promise<CheckpointRecord> {
  checkKeepLast(keepLast);
  const { runId, step } = checkpoint;
  const chunked = chunkFiles(files, chunkBytes);
  const record: CheckpointRecord = {
    ...checkpoint,
    createdAt: checkpoint.createdAt ?? Date.now(),
    files: chunked.map(({ file }) => file),
  };
  await guardStorage(
    `checkpoint at step ${step} of run "${runId}"`,
    () =>
      db.transaction('rw', db.checkpoints, db.checkpointFiles, async () => {
        await db.checkpointFiles.where('[runId+step]').equals([runId, step]).delete();
        for (const { file, chunks } of chunked) {
          await db.checkpointFiles.bulkPut(chunks.map((data, index) => ({ runId, step, name: file.name, index, data })));
        }
        await db.checkpoints.put(record);
        await prune(db, runId, keepLast);
      }),
    () => totalBytes(files),
  );
  return record;
}

/** The run's checkpoint with the highest step, if any. */
export function latestCheckpoint(db: PlantuneDb, runId: string): Promise<CheckpointRecord | undefined> {
  // Index entries with equal runId are ordered by primary key [runId+step]: last = highest step.
  return guardStorage('checkpoint', () => db.checkpoints.where('runId').equals(runId).last());
}

/** Oldest first. */
export function listCheckpoints(db: PlantuneDb, runId: string): Promise<CheckpointRecord[]> {
  return guardStorage('checkpoints', () => db.checkpoints.where('runId').equals(runId).toArray());
}

/** One buffer of a checkpoint, joined from its chunks; undefined when there is no such file. */
export function getCheckpointFile(db: PlantuneDb, runId: string, step: number, name: string): Promise<Blob | undefined> {
  return guardStorage('checkpoint file', () =>
    db.transaction('r', db.checkpoints, db.checkpointFiles, async () => {
      const file = (await db.checkpoints.get([runId, step]))?.files.find((f) => f.name === name);
      if (!file) return undefined;
      const rows = await db.checkpointFiles
        .where('[runId+step+name+index]')
        .between([runId, step, name, 0], [runId, step, name, file.chunks], true, false)
        .toArray();
      return joinChunks(file, rows.map((row) => row.data));
    }),
  );
}

export function deleteCheckpoint(db: PlantuneDb, runId: string, step: number): Promise<void> {
  return guardStorage('checkpoint deletion', () =>
    db.transaction('rw', db.checkpoints, db.checkpointFiles, async () => {
      await db.checkpointFiles.where('[runId+step]').equals([runId, step]).delete();
      await db.checkpoints.delete([runId, step]);
    }),
  );
}

/** Deletes all but the `keepLast` most recent checkpoints of a run. */
export async function pruneCheckpoints(db: PlantuneDb, runId: string, keepLast: number): Promise<void> {
  checkKeepLast(keepLast);
  await guardStorage('checkpoint deletion', () =>
    db.transaction('rw', db.checkpoints, db.checkpointFiles, () => prune(db, runId, keepLast)),
  );
}

async function prune(db: PlantuneDb, runId: string, keepLast: number): Promise<void> {
  const keys = await db.checkpoints.where('runId').equals(runId).primaryKeys();
  for (const [, step] of keys.slice(0, Math.max(0, keys.length - keepLast))) {
    await db.checkpointFiles.where('[runId+step]').equals([runId, step]).delete();
    await db.checkpoints.delete([runId, step]);
  }
}

function checkKeepLast(keepLast: number): void {
  if (!Number.isInteger(keepLast) || keepLast < 1) throw new RangeError(`keepLast must be an integer >= 1, got ${keepLast}`);
}
