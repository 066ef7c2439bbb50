// The typed API the trainer worker exposes through Comlink. The page only sees these interfaces.
import type { RejectCode } from '../data/rejection';
import type { PlanStep, SourceFormat } from '../data/trajectory';
import type { ImportSummary } from '../data/validate';
import type { DatasetCounts, DatasetRecord, Split } from '../store/datasets';
import type { ModelApi } from './model-types';
import type { RunApi } from './run-types';
import type { TeacherApi } from './teacher-types';

export type * from './model-types';
export type * from './run-types';
export type * from './teacher-types';

export interface GpuDescription {
  ok: true;
  adapter: string;
  isSoftware: boolean;
  features: string[];
  limits: { maxBufferSize: number; maxStorageBufferBindingSize: number; maxComputeInvocationsPerWorkgroup: number };
}

export interface GpuUnavailable {
  ok: false;
  /** What is missing and what the user can do. */
  message: string;
}

// ---- Datasets -------------------------------------------------------------------------------

export interface ImportDatasetOptions {
  /** Dataset name; default: from the file names. */
  name?: string;
  /** Record format of every file; `auto` (the default) detects it per file from its first readable row. */
  format?: 'auto' | SourceFormat;
  /** Fraction of problems (not rows) held out for evaluation, in [0, 1). Ignored with `holdOutFileName`. */
  evalFraction: number;
  /** Seed of the split: the same files and seed give the same split. A non-negative integer. */
  seed: number;
  /** Name of one of `files` whose rows are all eval; training rows about its problems are left out. */
  holdOutFileName?: string;
}

export interface ImportProgress {
  phase: 'reading' | 'storing' | 'done';
  /** The file being read (0-based) of `fileCount`. */
  fileIndex: number;
  fileCount: number;
  file: string;
  /** Bytes read so far, over all files, and their total. */
  bytesRead: number;
  totalBytes: number;
  /** Records read so far over all files: kept + rejected. */
  rows: number;
  kept: number;
  rejected: number;
}

/**
 * The import report of one file (the data module's summary, plus its size). Every record is
 * accounted for: rows = kept + rejected; `rejections` lists the first IMPORT_LISTED_REJECTIONS
 * (all are in `getRejections`).
 */
export interface FileImportReport extends ImportSummary {
  bytes: number;
}

export interface ContaminationStatus {
  /** problemIds on both the train and the eval side (empty unless something is wrong). */
  sharedProblems: string[];
  /** Training rows left out because their problem is in the held-out eval file. */
  removedFromTrain: number;
  /** Other stored datasets that have some of this dataset's problems (do not train on one and evaluate on the other). */
  otherDatasets: { id: string; name: string; sharedProblems: number }[];
}

export interface ImportResult {
  /** The stored dataset; absent when no row was kept (nothing is stored then). */
  datasetId?: string;
  /** Key for `getRejections`: the dataset id, or an id for the last import that stored nothing. */
  rejectionsId: string;
  name: string;
  files: FileImportReport[];
  /** Counts of what was stored (all zero when nothing was). */
  counts: DatasetCounts;
  /** How the eval side was chosen. */
  split: { kind: 'fraction'; evalFraction: number; seed: number } | { kind: 'file'; file: string };
  contamination: ContaminationStatus;
  /** Rejections over all files (file errors included), and how many of them `getRejections` returns. */
  rejectionsTotal: number;
  rejectionsKept: number;
  /** Seconds the import took. */
  seconds: number;
}

/** A rejection as `getRejections` returns it (one CSV row). `line` 0 means the file as a whole. */
export interface RejectionRow {
  file: string;
  line: number;
  index?: number;
  code?: RejectCode;
  reason: string;
}

/** A stored dataset as the page lists it: the store's record with only the rejection count. */
export interface DatasetInfo extends Omit<DatasetRecord, 'rejections'> {
  rejected: number;
}

export interface TrajectoryPreview {
  id: string;
  question: string;
  plan: PlanStep[];
  finalAnswer: string;
  split: Split;
  source: SourceFormat;
  file?: string;
  line?: number;
}

/** Listed per file in an ImportResult; all (up to MAX_STORED_REJECTIONS) are kept for getRejections. */
export const IMPORT_LISTED_REJECTIONS = 50;
/** Rejections kept per dataset for download; beyond this they are counted only. */
export const MAX_STORED_REJECTIONS = 10_000;

export interface DataApi {
  /**
   * Streams `files` through the data module (a file is never held whole), stores the kept rows as one
   * dataset split train/eval by problem, and reports per file. `onProgress` must be `Comlink.proxy`'d.
   */
  importDataset(files: File[], opts: ImportDatasetOptions, onProgress?: (p: ImportProgress) => void): Promise<ImportResult>;
  /** Stored datasets, newest first. */
  listDatasets(): Promise<DatasetInfo[]>;
  deleteDataset(id: string): Promise<void>;
  /** The first `n` trajectories of a dataset, in file order. */
  previewDataset(id: string, n: number): Promise<TrajectoryPreview[]>;
  /** Every kept rejection of a dataset (or of the last import that stored nothing), in file order. */
  getRejections(id: string): Promise<RejectionRow[]>;
}

export interface TrainerApi extends DataApi, RunApi, ModelApi, TeacherApi {
  /** Acquires the GPU (once) and describes it, or says why there is none. */
  describeGpu(): Promise<GpuDescription | GpuUnavailable>;
}
