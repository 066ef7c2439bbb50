// Datasets: the imported trajectories of one file (or set of files), already validated
// and split train/eval by problem, plus a summary of the rows that were rejected.
import type { SourceFormat, Trajectory } from '../data/trajectory';
import type { PlantuneDb } from './db';
import { guardStorage } from './errors';

export type Split = 'train' | 'eval';

export interface SplitSettings {
  /** Fraction of problems (not rows) held out for evaluation. */
  evalFraction: number;
  seed: number;
}

export interface RejectionSummary {
  total: number;
  /** Rejected rows per reason, e.g. { "missing final answer": 3 }. */
  byReason: Record<string, number>;
  /** The first few rejections, to show the user. */
  examples: { file: string; line: number; reason: string }[];
}

export interface DatasetCounts {
  trajectories: number;
  problems: number;
  train: number;
  eval: number;
}

export interface DatasetRecord {
  id: string;
  name: string;
  format: SourceFormat;
  createdAt: number;
  /** Computed from the stored trajectories by putDataset. */
  counts: DatasetCounts;
  split: SplitSettings;
  rejections: RejectionSummary;
}

export interface StoredTrajectory extends Trajectory {
  datasetId: string;
  split: Split;
}

export type NewDataset = Omit<DatasetRecord, 'counts' | 'createdAt'> & { createdAt?: number };

/**
 * Stores a dataset and its trajectories in one transaction, replacing any dataset with
 * the same id (its old trajectories are removed).
 */
export async function putDataset(
  db: PlantuneDb,
  dataset: NewDataset,
  trajectories: readonly (Trajectory & { split: Split })[],
): Promise<DatasetRecord> {
  const rows: StoredTrajectory[] = trajectories.map((t) => ({ ...t, datasetId: dataset.id }));
  const record: DatasetRecord = {
    ...dataset,
    createdAt: dataset.createdAt ?? Date.now(),
    counts: {
      trajectories: rows.length,
      problems: new Set(rows.map((r) => r.problemId)).size,
      train: rows.filter((r) => r.split === 'train').length,
      eval: rows.filter((r) => r.split === 'eval').length,
    },
  };
  await guardStorage(
    `dataset "${dataset.name}"`,
    () =>
      db.transaction('rw', db.datasets, db.trajectories, async () => {
        await db.trajectories.where('datasetId').equals(dataset.id).delete();
        await db.trajectories.bulkPut(rows);
        await db.datasets.put(record);
      }),
    () => new TextEncoder().encode(JSON.stringify(rows)).length,
  );
  return record;
}

export function getDataset(db: PlantuneDb, id: string): Promise<DatasetRecord | undefined> {
  return guardStorage('dataset', () => db.datasets.get(id));
}

/** Newest first. */
export function listDatasets(db: PlantuneDb): Promise<DatasetRecord[]> {
  return guardStorage('datasets', () => db.datasets.orderBy('createdAt').reverse().toArray());
}

/** The trajectories of a dataset, or of one of its splits. */
export function getTrajectories(db: PlantuneDb, datasetId: string, split?: Split): Promise<StoredTrajectory[]> {
  return guardStorage('trajectories', () =>
    split === undefined
      ? db.trajectories.where('datasetId').equals(datasetId).toArray()
      : db.trajectories.where('[datasetId+split]').equals([datasetId, split]).toArray(),
  );
}

/** Deletes a dataset and all its trajectories, in one transaction. */
export function deleteDataset(db: PlantuneDb, id: string): Promise<void> {
  return guardStorage('dataset deletion', () =>
    db.transaction('rw', db.datasets, db.trajectories, async () => {
      await db.trajectories.where('datasetId').equals(id).delete();
      await db.datasets.delete(id);
    }),
  );
}
