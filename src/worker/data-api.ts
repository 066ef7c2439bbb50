// The worker's dataset handlers: files -> data module (streamed, validated) -> split by problem -> store.
// No DOM here; everything runs in the trainer worker (or any worker with IndexedDB).
import { releaseProxy } from 'comlink';
import { FORMAT_PARSERS } from '../data/formats';
import type { Rejection } from '../data/rejection';
import { checkContamination, holdOutFile, splitByProblem, type Split as RowSplit } from '../data/split';
import type { SourceFormat, Trajectory } from '../data/trajectory';
import { streamImport, type ImportSummary } from '../data/validate';
import { deleteDataset, getDataset, listDatasets, putDataset, type DatasetRecord } from '../store/datasets';
import type { PlantuneDb } from '../store/db';
import { guardStorage } from '../store/errors';
import {
  IMPORT_LISTED_REJECTIONS, MAX_STORED_REJECTIONS,
  type ContaminationStatus, type DataApi, type DatasetInfo, type FileImportReport, type ImportDatasetOptions,
  type ImportProgress, type ImportResult, type RejectionRow, type TrajectoryPreview,
} from './api';

/** Progress is sent while reading when this long has passed or this share of the bytes was read since the last report. */
const PROGRESS_EVERY_MS = 100;
const PROGRESS_EVERY_SHARE = 0.02;

/** Bytes handed to the parser at a time: the browser reads a disk file in chunks of up to ~1 MB. */
const PIECE_BYTES = 64 * 1024;

/**
 * The chunks of a file, cut into pieces (views, no copies) and counted as the parser takes them, so
 * progress follows the parsing; the file is never held whole.
 */
async function* countedChunks(file: Blob, onBytes: (n: number) => void): AsyncGenerator<Uint8Array> {
  const reader = file.stream().getReader();
  let done = false;
  try {
    while (!done) {
      const next = await reader.read();
      done = next.done;
      const chunk = next.value;
      if (!chunk) continue;
      for (let at = 0; at < chunk.byteLength; at += PIECE_BYTES) {
        const piece = chunk.subarray(at, Math.min(at + PIECE_BYTES, chunk.byteLength));
        onBytes(piece.byteLength);
        yield piece;
      }
    }
  } finally {
    if (!done) await reader.cancel();
    reader.releaseLock();
  }
}

const toRow = (r: Rejection): RejectionRow => ({
  file: r.file, line: r.line ?? 0, ...(r.index !== undefined ? { index: r.index } : {}), code: r.code, reason: r.reason,
});

function checkOptions(files: File[], opts: ImportDatasetOptions): void {
  if (files.length === 0) throw new Error('Choose at least one file to import.');
  const names = files.map((f) => f.name);
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice !== undefined) throw new Error(`Two of the files are named "${twice}": row ids are made from file names, so rename one.`);
  if (opts.holdOutFileName !== undefined && !names.includes(opts.holdOutFileName)) {
    throw new Error(`The eval file "${opts.holdOutFileName}" is not among the files being imported.`);
  }
  if (opts.format !== undefined && opts.format !== 'auto' && !Object.hasOwn(FORMAT_PARSERS, opts.format)) {
    throw new Error(`Unknown format "${opts.format}": use auto or one of ${Object.keys(FORMAT_PARSERS).join(', ')}.`);
  }
  if (!(opts.evalFraction >= 0 && opts.evalFraction <= 1)) throw new RangeError(`The eval fraction must be between 0 and 1, got ${opts.evalFraction}.`);
  if (!Number.isInteger(opts.seed) || opts.seed < 0 || opts.seed > 0xffffffff) {
    throw new RangeError(`The seed must be a whole number from 0 to 4294967295, got ${opts.seed}.`);
  }
}

function defaultName(files: File[]): string {
  const stem = files[0].name.replace(/\.(jsonl|json|txt)$/i, '');
  return files.length === 1 ? stem : `${stem} + ${files.length - 1} more`;
}

/** Imports one dataset: see `DataApi.importDataset`. */
async function importDataset(
  db: PlantuneDb,
  files: File[],
  opts: ImportDatasetOptions,
  onProgress: (p: ImportProgress) => void,
  remember: (id: string, rows: RejectionRow[]) => void,
): Promise<ImportResult> {
  checkOptions(files, opts);
  const started = performance.now();
  const progress: ImportProgress = {
    phase: 'reading', fileIndex: 0, fileCount: files.length, file: files[0].name,
    bytesRead: 0, totalBytes: files.reduce((n, f) => n + f.size, 0), rows: 0, kept: 0, rejected: 0,
  };
  let lastTime = -Infinity;
  let lastBytes = 0;
  const send = (force = false): void => {
    const now = performance.now();
    const moved = progress.bytesRead - lastBytes >= PROGRESS_EVERY_SHARE * progress.totalBytes;
    if (!force && !moved && now - lastTime < PROGRESS_EVERY_MS) return;
    lastTime = now;
    lastBytes = progress.bytesRead;
    onProgress({ ...progress });
  };

  const rowsByFile: Trajectory[][] = [];
  const reports: FileImportReport[] = [];
  const savedRejections: RejectionRow[] = [];
  let rejectionsTotal = 0;
  const record = (r: Rejection): void => {
    rejectionsTotal++;
    if (savedRejections.length < MAX_STORED_REJECTIONS) savedRejections.push(toRow(r));
  };
  /** Row id -> file that first used it: ids must be unique in the whole dataset, not only per file. */
  const idOwner = new Map<string, string>();
  let bytesBefore = 0;

  for (const [i, file] of files.entries()) {
    Object.assign(progress, { fileIndex: i, file: file.name, bytesRead: bytesBefore });
    send(true);
    const rows: Trajectory[] = [];
    const listed: Rejection[] = [];
    let rowRejections = 0;
    let crossFileDuplicates = 0;
    const reject = (r: Rejection): void => {
      record(r);
      if (r.scope === 'file') return;
      rowRejections++;
      progress.rows++;
      progress.rejected++;
      if (listed.length < IMPORT_LISTED_REJECTIONS) listed.push(r);
    };
    const chunks = countedChunks(file, (n) => {
      progress.bytesRead += n;
      send();
    });
    const events = streamImport(chunks, { file: file.name, format: opts.format ?? 'auto', maxListed: 0 });
    let summary: ImportSummary;
    for (;;) {
      const next = await events.next();
      if (next.done) {
        summary = next.value;
        break;
      }
      const event = next.value;
      if (event.kind === 'rejection') {
        reject(event.rejection);
        continue;
      }
      const t = event.trajectory;
      const owner = idOwner.get(t.id);
      if (owner !== undefined) {
        crossFileDuplicates++;
        const line = typeof t.meta?.line === 'number' ? t.meta.line : undefined;
        reject({ scope: 'row', file: file.name, line, code: 'duplicate-id', reason: `id "${t.id}" was already used in ${owner}` });
        continue;
      }
      idOwner.set(t.id, file.name);
      rows.push(t);
      progress.rows++;
      progress.kept++;
    }
    rowsByFile.push(rows);
    const byReason = { ...summary.rejectedByReason };
    if (crossFileDuplicates > 0) byReason['duplicate-id'] = (byReason['duplicate-id'] ?? 0) + crossFileDuplicates;
    reports.push({
      file: file.name, bytes: file.size, format: summary.format, formatDetected: summary.formatDetected,
      rows: summary.rows, kept: rows.length, rejected: summary.rejected + crossFileDuplicates, rejectedByReason: byReason,
      duplicates: summary.duplicates + crossFileDuplicates, fileErrors: summary.fileErrors,
      rejections: listed, rejectionsNotListed: rowRejections - listed.length,
    });
    bytesBefore += file.size;
    progress.bytesRead = bytesBefore;
  }

  const holdOut = opts.holdOutFileName;
  let split: RowSplit;
  let removedFromTrain = 0;
  if (holdOut !== undefined) {
    const h = files.findIndex((f) => f.name === holdOut);
    const result = holdOutFile(rowsByFile.filter((_, i) => i !== h).flat(), rowsByFile[h]);
    split = result;
    removedFromTrain = result.removedFromTrain.length;
  } else {
    split = splitByProblem(rowsByFile.flat(), { evalFraction: opts.evalFraction, seed: opts.seed });
  }
  const contamination: ContaminationStatus = {
    sharedProblems: checkContamination(split.train, split.eval),
    removedFromTrain,
    otherDatasets: [],
  };
  const name = opts.name?.trim() || defaultName(files);
  const base = {
    rejectionsId: '', name, files: reports, contamination, rejectionsTotal, rejectionsKept: savedRejections.length,
    split: holdOut !== undefined ? { kind: 'file' as const, file: holdOut } : { kind: 'fraction' as const, evalFraction: opts.evalFraction, seed: opts.seed },
  };
  const storedRows = [...split.train.map((t) => ({ ...t, split: 'train' as const })), ...split.eval.map((t) => ({ ...t, split: 'eval' as const }))];
  rowsByFile.length = 0;

  if (storedRows.length === 0) {
    const rejectionsId = `unsaved-${newId()}`;
    remember(rejectionsId, savedRejections);
    progress.phase = 'done';
    send(true);
    return { ...base, rejectionsId, counts: { trajectories: 0, problems: 0, train: 0, eval: 0 }, seconds: (performance.now() - started) / 1000 };
  }

  progress.phase = 'storing';
  send(true);
  contamination.otherDatasets = await overlapWithStored(db, new Set(storedRows.map((t) => t.problemId)));
  const byReason: Record<string, number> = {};
  for (const r of reports) for (const [code, n] of Object.entries(r.rejectedByReason)) byReason[code] = (byReason[code] ?? 0) + n;
  for (const r of reports) for (const e of r.fileErrors) byReason[e.code] = (byReason[e.code] ?? 0) + 1;
  const stored = await putDataset(
    db,
    {
      id: `ds-${newId()}`, name, format: majorityFormat(reports),
      split: { evalFraction: holdOut !== undefined ? problemShare(split.eval, storedRows) : opts.evalFraction, seed: opts.seed },
      rejections: { total: rejectionsTotal, byReason, examples: savedRejections },
    },
    storedRows,
  );
  progress.phase = 'done';
  send(true);
  return { ...base, datasetId: stored.id, rejectionsId: stored.id, counts: stored.counts, seconds: (performance.now() - started) / 1000 };
}

/** The fraction of all problems that `part` covers (what evalFraction means when a file is held out). */
function problemShare(part: Trajectory[], all: Trajectory[]): number {
  return new Set(part.map((t) => t.problemId)).size / new Set(all.map((t) => t.problemId)).size;
}

function newId(): string {
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
}

/** The format of the file that contributed the most rows. */
function majorityFormat(reports: FileImportReport[]): SourceFormat {
  const best = reports.filter((r) => r.format !== undefined).sort((a, b) => b.kept - a.kept)[0];
  return best.format!;
}

/** Stored datasets that share problems with `problems` (through the problemId index, not a full scan). */
export async function overlapWithStored(db: PlantuneDb, problems: Set<string>): Promise<ContaminationStatus['otherDatasets']> {
  const shared = new Map<string, Set<string>>();
  await guardStorage('problem overlap', () =>
    db.trajectories.where('problemId').anyOf([...problems]).eachKey((key, cursor) => {
      const datasetId = (cursor.primaryKey as [string, string])[0];
      let set = shared.get(datasetId);
      if (!set) shared.set(datasetId, (set = new Set()));
      set.add(key as string);
    }),
  );
  const out: ContaminationStatus['otherDatasets'] = [];
  for (const [id, set] of shared) {
    const record = await getDataset(db, id);
    if (record) out.push({ id, name: record.name, sharedProblems: set.size });
  }
  return out.sort((a, b) => b.sharedProblems - a.sharedProblems);
}

function info(r: DatasetRecord): DatasetInfo {
  return { id: r.id, name: r.name, format: r.format, createdAt: r.createdAt, counts: r.counts, split: r.split, rejected: r.rejections.total };
}

/** First `n` trajectories in file order (by line, then file), streamed with a cursor: never the whole dataset in memory. */
async function preview(db: PlantuneDb, id: string, n: number): Promise<TrajectoryPreview[]> {
  const count = Math.max(0, Math.min(100, Math.floor(n)));
  const best: TrajectoryPreview[] = [];
  const order = (a: TrajectoryPreview, b: TrajectoryPreview): number =>
    (a.line ?? Infinity) - (b.line ?? Infinity) || ((a.file ?? '') < (b.file ?? '') ? -1 : (a.file ?? '') > (b.file ?? '') ? 1 : 0) || (a.id < b.id ? -1 : 1);
  await guardStorage('dataset preview', () =>
    db.trajectories.where('datasetId').equals(id).each((t) => {
      const line = typeof t.meta?.line === 'number' ? t.meta.line : undefined;
      const file = typeof t.meta?.file === 'string' ? t.meta.file : undefined;
      best.push({ id: t.id, question: t.question, plan: t.plan, finalAnswer: t.finalAnswer.text, split: t.split, source: t.source, file, line });
      if (best.length > 4 * count + 16) best.sort(order).length = count;
    }),
  );
  return best.sort(order).slice(0, count);
}

/** The dataset handlers, over a lazily opened database shared with the rest of the worker. */
export function createDataApi(openDb: () => Promise<PlantuneDb>): DataApi {
  /** Rejections of the last import that stored nothing (so they can still be downloaded). */
  let unsaved: { id: string; rows: RejectionRow[] } | null = null;
  return {
    async importDataset(files, opts, onProgress) {
      try {
        return await importDataset(await openDb(), files, opts, onProgress ?? (() => {}), (id, rows) => (unsaved = { id, rows }));
      } finally {
        // A Comlink-proxied callback holds a MessagePort until released.
        (onProgress as { [releaseProxy]?: () => void } | undefined)?.[releaseProxy]?.();
      }
    },
    async listDatasets() {
      return (await listDatasets(await openDb())).map(info);
    },
    async deleteDataset(id) {
      await deleteDataset(await openDb(), id);
    },
    async previewDataset(id, n) {
      return preview(await openDb(), id, n);
    },
    async getRejections(id) {
      if (unsaved?.id === id) return unsaved.rows;
      const record = await getDataset(await openDb(), id);
      if (!record) throw new Error(`There is no dataset "${id}" (was it deleted?).`);
      // Stored by importDataset as RejectionRows (a subtype of the store's {file, line, reason}).
      return record.rejections.examples as RejectionRow[];
    },
  };
}
