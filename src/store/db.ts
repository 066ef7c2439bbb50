// Plantune's IndexedDB database (Dexie). Works in the page and in a Web Worker: nothing
// here touches `window`. Open it with `openPlantuneDb`, then use the repository
// functions in datasets.ts, models.ts, checkpoints.ts, runs.ts, metrics.ts and evals.ts.
import Dexie, { type Table } from 'dexie';
import type { Trajectory } from '../data/trajectory';
import type { ChunkData } from './chunks';
import type { CheckpointRecord } from './checkpoints';
import type { DatasetRecord, StoredTrajectory } from './datasets';
import { StorageUnavailableError, toOpenError } from './errors';
import type { EvalRecord } from './evals';
import type { MetricRecord } from './metrics';
import type { ModelRecord } from './models';
import type { RunRecord } from './runs';

export const DEFAULT_DB_NAME = 'plantune';

/** Version 1. Compound primary keys are written `[a+b]`; the other entries are indexes. */
export const SCHEMA_V1 = {
  datasets: 'id, createdAt',
  trajectories: '[datasetId+id], datasetId, problemId',
  models: 'id, createdAt',
  modelFiles: '[modelId+name+index], modelId',
  checkpoints: '[runId+step], runId',
  checkpointFiles: '[runId+step+name+index], [runId+step], runId',
  runs: 'id, createdAt',
  metrics: '[runId+name+step], [runId+step], runId',
} as const;

/**
 * Version 2: the train/eval split of a trajectory becomes an indexed string.
 * Version 1 kept it as a boolean `inEval`, which IndexedDB cannot index (booleans are
 * not valid keys), so reading one split meant scanning the whole dataset. Version 2
 * stores `split: 'train' | 'eval'` and indexes `[datasetId+split]`; the upgrade
 * rewrites every stored trajectory.
 */
export const SCHEMA_V2 = {
  trajectories: '[datasetId+id], datasetId, problemId, [datasetId+split]',
} as const;

/** Version 3: a run's evaluations (accuracy, by plan length, samples), one per [runId+step]. Additive: nothing is rewritten. */
export const SCHEMA_V3 = {
  evals: '[runId+step], runId',
} as const;

/** A trajectory row as version 1 stored it. */
export interface TrajectoryRowV1 extends Trajectory {
  datasetId: string;
  inEval: boolean;
}

export interface ModelFileChunk {
  modelId: string;
  name: string;
  index: number;
  data: ChunkData;
}

export interface CheckpointFileChunk {
  runId: string;
  step: number;
  name: string;
  index: number;
  data: ChunkData;
}

export class PlantuneDb extends Dexie {
  declare readonly datasets: Table<DatasetRecord, string>;
  declare readonly trajectories: Table<StoredTrajectory, [string, string]>;
  declare readonly models: Table<ModelRecord, string>;
  declare readonly modelFiles: Table<ModelFileChunk, [string, string, number]>;
  declare readonly checkpoints: Table<CheckpointRecord, [string, number]>;
  declare readonly checkpointFiles: Table<CheckpointFileChunk, [string, number, string, number]>;
  declare readonly runs: Table<RunRecord, string>;
  declare readonly metrics: Table<MetricRecord, [string, string, number]>;
  declare readonly evals: Table<EvalRecord, [string, number]>;

  constructor(name: string, dependencies: { indexedDB?: IDBFactory; IDBKeyRange?: typeof IDBKeyRange }) {
    super(name, dependencies);
    this.version(1).stores(SCHEMA_V1);
    this.version(2)
      .stores(SCHEMA_V2)
      .upgrade((tx) =>
        tx
          .table('trajectories')
          .toCollection()
          .modify((row: Partial<TrajectoryRowV1> & Partial<StoredTrajectory>) => {
            row.split = row.inEval ? 'eval' : 'train';
            delete row.inEval;
          }),
      );
    this.version(3).stores(SCHEMA_V3);
  }
}

export interface OpenOptions {
  /** Database name; tests use unique names. Default "plantune". */
  name?: string;
  /** The IndexedDB factory to use instead of the global one; null means there is none. */
  indexedDB?: IDBFactory | null;
  IDBKeyRange?: typeof IDBKeyRange;
}

/**
 * Opens (creating or upgrading) the database. Fails with StorageUnavailableError when
 * IndexedDB is missing, refused (private mode, blocked site data), or held at an older
 * version by another tab. (A database left at a newer version by a newer Plantune is
 * opened as it is: Dexie 4 adds whatever tables and indexes this code needs.)
 */
export async function openPlantuneDb(options: OpenOptions = {}): Promise<PlantuneDb> {
  const dependencies: { indexedDB?: IDBFactory; IDBKeyRange?: typeof IDBKeyRange } = {};
  if (options.indexedDB !== undefined) dependencies.indexedDB = options.indexedDB ?? undefined;
  if (options.IDBKeyRange !== undefined) dependencies.IDBKeyRange = options.IDBKeyRange;
  const db = new PlantuneDb(options.name ?? DEFAULT_DB_NAME, dependencies);

  // Without this, an open blocked by another tab would wait silently until that tab closes.
  let rejectBlocked: (error: Error) => void = () => {};
  const blocked = new Promise<never>((_, reject) => (rejectBlocked = reject));
  const onBlocked = () => rejectBlocked(new StorageUnavailableError('blocked'));
  db.on('blocked', onBlocked);
  try {
    await Promise.race([db.open(), blocked]);
    return db;
  } catch (error) {
    db.close();
    throw await toOpenError(error);
  } finally {
    db.on('blocked').unsubscribe(onBlocked);
  }
}
