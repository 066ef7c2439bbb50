// The checked import: every parsed row passes `validateTrajectory`, duplicates are caught, and a
// summary accounts for every record (rows = kept + rejected; file-level errors listed apart).

import { hash64 } from './hash';
import { readTrajectories, inputName, type ReadOptions } from './read';
import type { ByteInput } from './records';
import { rowRejection, type Rejection, type RejectCode, type RowRejection } from './rejection';
import type { SourceFormat, Trajectory } from './trajectory';

/** Formats whose rows are decompositions: a row of theirs without plan steps is broken. */
const PLAN_REQUIRED: ReadonlySet<SourceFormat> = new Set(['gsm8k', 'gsm8k-socratic', 'ai-subq-raw', 'ai-subq-dataset', 'plan-tuning']);

const nonEmpty = (v: unknown): v is string => typeof v === 'string' && v.trim().length > 0;

/** Invariants every stored Trajectory holds, whatever its source; undefined when it holds them all. */
export function validateTrajectory(t: Trajectory): RowRejection | undefined {
  if (!nonEmpty(t.id)) return rowRejection('wrong-type', 'id must be a non-empty string');
  if (!nonEmpty(t.problemId)) return rowRejection('wrong-type', 'problemId must be a non-empty string');
  if (!nonEmpty(t.question)) return rowRejection('missing-question', 'the question is empty');
  if (typeof t.solution !== 'string') return rowRejection('wrong-type', 'solution must be a string');
  if (!t.finalAnswer || !nonEmpty(t.finalAnswer.text)) return rowRejection('missing-answer', 'the final answer is empty');
  if (t.finalAnswer.value !== undefined && !Number.isFinite(t.finalAnswer.value)) {
    return rowRejection('wrong-type', 'finalAnswer.value must be a finite number');
  }
  if (!Array.isArray(t.plan)) return rowRejection('wrong-type', 'plan must be an array');
  for (const [i, step] of t.plan.entries()) {
    if (!nonEmpty(step?.subQuestion)) return rowRejection('malformed-plan', `plan step ${i + 1} has no sub-question`);
    if (step.subAnswer !== undefined && typeof step.subAnswer !== 'string') {
      return rowRejection('wrong-type', `plan step ${i + 1}: subAnswer must be a string`);
    }
  }
  if (t.plan.length === 0 && PLAN_REQUIRED.has(t.source)) return rowRejection('empty-plan', `a ${t.source} row needs at least one plan step`);
  return undefined;
}

export interface ImportSummary {
  file: string;
  /** The record format, when one was detected or given. */
  format?: SourceFormat;
  /** True when the format came from content detection rather than an override. */
  formatDetected: boolean;
  /** Records seen: JSONL lines (blank lines excepted) or array elements. Always kept + rejected. */
  rows: number;
  kept: number;
  rejected: number;
  rejectedByReason: Partial<Record<RejectCode, number>>;
  /** Rows rejected as duplicates (same id, or same problem, plan, solution and answer as an earlier row). */
  duplicates: number;
  /** Problems with the file as a whole (empty, binary, truncated, …); these are not rows. */
  fileErrors: Rejection[];
  /** Row rejections in file order, the first `maxListed` of them. */
  rejections: Rejection[];
  /** Row rejections counted but beyond `maxListed`. */
  rejectionsNotListed: number;
}

export interface ImportOptions extends ReadOptions {
  /** How many row rejections to list in the summary (all are counted); default 10,000. */
  maxListed?: number;
}

export type ImportEvent = { kind: 'row'; trajectory: Trajectory } | { kind: 'rejection'; rejection: Rejection };

/**
 * The key two rows share when they are the same example: problem (problemId stands for the normalised
 * question), plan, solution, answer and rewards.
 */
function contentKey(t: Trajectory): string {
  return hash64(JSON.stringify([t.problemId, t.plan, t.solution, t.finalAnswer.text, t.rewards ?? null]));
}

/**
 * Imports a file row by row: yields each kept trajectory and each rejection as it is read, and returns
 * the summary when done. Memory holds the duplicate keys, not the rows.
 */
export async function* streamImport(input: ByteInput, options: ImportOptions = {}): AsyncGenerator<ImportEvent, ImportSummary> {
  const maxListed = options.maxListed ?? 10_000;
  const summary: ImportSummary = {
    file: inputName(input, options.file), formatDetected: false, rows: 0, kept: 0, rejected: 0,
    rejectedByReason: {}, duplicates: 0, fileErrors: [], rejections: [], rejectionsNotListed: 0,
  };
  const seenIds = new Map<string, string>();
  const seenContent = new Map<string, string>();
  const reject = (r: Rejection): ImportEvent => {
    if (r.scope === 'file') {
      summary.fileErrors.push(r);
    } else {
      summary.rows++;
      summary.rejected++;
      summary.rejectedByReason[r.code] = (summary.rejectedByReason[r.code] ?? 0) + 1;
      if (r.code === 'duplicate-id' || r.code === 'duplicate-row') summary.duplicates++;
      if (summary.rejections.length < maxListed) summary.rejections.push(r);
      else summary.rejectionsNotListed++;
    }
    return { kind: 'rejection', rejection: r };
  };

  for await (const event of readTrajectories(input, options)) {
    if (event.kind === 'format') {
      summary.format = event.format;
      summary.formatDetected = event.detected;
      continue;
    }
    if (event.kind === 'rejection') {
      yield reject(event.rejection);
      continue;
    }
    const t = event.trajectory;
    const where = { scope: 'row' as const, file: summary.file, line: event.line, ...(event.index !== undefined ? { index: event.index } : {}) };
    const here = event.index !== undefined ? `line ${event.line} (element ${event.index})` : `line ${event.line}`;
    const invalid = validateTrajectory(t);
    if (invalid) {
      yield reject({ ...where, code: invalid.code, reason: invalid.reason });
      continue;
    }
    const key = contentKey(t);
    const sameId = seenIds.get(t.id);
    const sameContent = seenContent.get(key);
    if (sameId !== undefined) {
      yield reject({ ...where, code: 'duplicate-id', reason: `id "${t.id}" was already used on ${sameId}` });
      continue;
    }
    if (sameContent !== undefined) {
      yield reject({ ...where, code: 'duplicate-row', reason: `same question, plan, solution and answer as ${sameContent}` });
      continue;
    }
    seenIds.set(t.id, here);
    seenContent.set(key, here);
    summary.rows++;
    summary.kept++;
    yield { kind: 'row', trajectory: t };
  }
  return summary;
}

/** `streamImport`, collected: the kept trajectories in file order and the summary. */
export async function importFile(input: ByteInput, options: ImportOptions = {}): Promise<{ trajectories: Trajectory[]; summary: ImportSummary }> {
  const trajectories: Trajectory[] = [];
  const events = streamImport(input, options);
  for (;;) {
    const next = await events.next();
    if (next.done) return { trajectories, summary: next.value };
    if (next.value.kind === 'row') trajectories.push(next.value.trajectory);
  }
}
