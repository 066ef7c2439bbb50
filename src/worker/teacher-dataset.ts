// A teacher job's trajectories as a stored dataset, the way importDataset stores dropped files: split
// train/eval by problem (splitByProblem), checked against the other stored datasets, stored with
// putDataset. Every trajectory is kept, correct or not, with rewards.answerCorrectness (offline RL
// learns from both; SFT keeps meta.sft), its provenance (teacher, method, prompts, sampling, usage,
// job) and where its question came from. Failed questions become the dataset's rejections.
import type { Trajectory } from '../data/trajectory';
import type { RejectionSummary } from '../store/datasets';
import { putDataset } from '../store/datasets';
import type { PlantuneDb } from '../store/db';
import { splitByProblem } from '../data/split';
import type { QuestionResult } from '../teacher/store';
import { overlapWithStored } from './data-api';
import type { JobQuestions, QuestionOrigin } from './teacher-store';
import type { SavedTeacherDataset } from './teacher-types';

/** Rejections kept per dataset for download (as importDataset keeps). */
const MAX_LISTED_FAILURES = 10_000;

export interface DatasetSpec {
  name: string;
  evalFraction: number;
  seed: number;
  /** Where the job's questions came from, for the rejection rows of dataset questions. */
  source: string;
}

function where(origin: QuestionOrigin | undefined, spec: DatasetSpec): { file: string; line: number } {
  if (origin && 'file' in origin) return origin;
  return { file: spec.source, line: 0 };
}

/** The failed questions as the dataset's rejection summary (file and line of the question, kind and message). */
function failures(results: QuestionResult[], input: JobQuestions, spec: DatasetSpec): RejectionSummary {
  const failed = results.filter((r) => r.status === 'failed');
  const byReason: Record<string, number> = {};
  for (const r of failed) byReason[r.failure?.kind ?? 'failed'] = (byReason[r.failure?.kind ?? 'failed'] ?? 0) + 1;
  const examples = failed.slice(0, MAX_LISTED_FAILURES).map((r) => ({
    ...where(input.origins[r.questionIndex], spec),
    reason: `question ${r.questionIndex + 1} failed (${r.failure?.kind ?? 'failed'}): ${r.failure?.message ?? 'no message'}`,
  }));
  return { total: failed.length, byReason, examples };
}

function newDatasetId(): string {
  return `ds-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
}

export async function saveAsDataset(db: PlantuneDb, results: QuestionResult[], input: JobQuestions, spec: DatasetSpec): Promise<SavedTeacherDataset> {
  if (!(spec.evalFraction >= 0 && spec.evalFraction <= 1)) throw new RangeError(`The eval fraction must be between 0 and 1, got ${spec.evalFraction}.`);
  if (!Number.isInteger(spec.seed) || spec.seed < 0 || spec.seed > 0xffffffff) throw new RangeError(`The seed must be a whole number from 0 to 4294967295, got ${spec.seed}.`);
  const rows: Trajectory[] = results.flatMap((r) =>
    r.trajectories.map((t) => ({ ...t, meta: { ...t.meta, questionFrom: input.origins[r.questionIndex] ?? null } })),
  );
  const rejections = failures(results, input, spec);
  if (rows.length === 0) {
    throw new Error(`The job has no trajectory to save yet (${results.length} questions done, ${rejections.total} failed).`);
  }
  const split = splitByProblem(rows, { evalFraction: spec.evalFraction, seed: spec.seed });
  const stored = [...split.train.map((t) => ({ ...t, split: 'train' as const })), ...split.eval.map((t) => ({ ...t, split: 'eval' as const }))];
  const sharedWith = await overlapWithStored(db, new Set(rows.map((t) => t.problemId)));
  const record = await putDataset(
    db,
    { id: newDatasetId(), name: spec.name, format: 'plantune', split: { evalFraction: spec.evalFraction, seed: spec.seed }, rejections },
    stored,
  );
  return {
    datasetId: record.id,
    name: record.name,
    counts: record.counts,
    correct: rows.filter((t) => t.rewards?.answerCorrectness === 1).length,
    failedQuestions: rejections.total,
    sharedWith,
  };
}
