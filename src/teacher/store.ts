// Where a teacher job keeps its state, so that closing the tab (or killing the CLI) loses at most the
// questions in flight. Three implementations: in memory (here), IndexedDB (dexie-store.ts, the page)
// and a JSON sidecar file next to the output (node/file-job-store.ts, the CLI).

import type { Trajectory } from '../data/trajectory';
import type { TeacherErrorKind } from './errors';
import type { MethodName, SamplingSettings } from './methods';
import type { PromptSet } from './prompts';
import type { TokenUsage } from './types';

export type JobStatus = 'new' | 'running' | 'paused' | 'cancelled' | 'stopped' | 'done';

export interface JobSettings {
  method: MethodName;
  /** Who teaches: recorded, never the key. */
  teacher: { model: string; endpoint: string };
  sampling: SamplingSettings;
  prompts: PromptSet;
  /** Questions worked on at once. */
  concurrency: number;
  /** The job stops after this many questions in a row fail for transient reasons (5xx, 429, timeouts). */
  maxConsecutiveFailures: number;
}

export interface JobCounters {
  /** Questions with a result (ok or failed). */
  done: number;
  ok: number;
  /** Questions with at least one correct trajectory. */
  correct: number;
  failed: number;
  trajectories: number;
  /** Trajectories whose final answer matches the gold answer (flagged for SFT). */
  correctTrajectories: number;
  /** Everything spent, retries and abandoned questions included. */
  usage: TokenUsage;
}

export interface JobRecord {
  id: string;
  createdAt: string;
  updatedAt: string;
  status: JobStatus;
  settings: JobSettings;
  /** Questions in the job. */
  total: number;
  counters: JobCounters;
  /** Why the job last stopped, when it did not finish. */
  lastError?: string;
  /** Free text: where the questions came from (a file name, a dataset id). */
  source?: string;
}

export interface QuestionFailure {
  kind: TeacherErrorKind | 'store';
  message: string;
  /** Transient failures are tried again when the job is resumed. */
  retryable: boolean;
}

export interface QuestionResult {
  jobId: string;
  questionIndex: number;
  /** Hash of the question's text: a resumed job checks that its question list is the same. */
  questionHash: string;
  status: 'ok' | 'failed';
  trajectories: Trajectory[];
  /** Trajectories whose final answer is correct. */
  correct: number;
  usage: TokenUsage;
  failure?: QuestionFailure;
  finishedAt: string;
}

export interface JobStore {
  getJob(id: string): Promise<JobRecord | undefined>;
  listJobs(): Promise<JobRecord[]>;
  putJob(job: JobRecord): Promise<void>;
  /** Saves one question's result together with the job's updated counters (atomically where the store can). */
  putResult(job: JobRecord, result: QuestionResult): Promise<void>;
  getResults(jobId: string): Promise<QuestionResult[]>;
  deleteJob(id: string): Promise<void>;
}

const clone = <T>(v: T): T => structuredClone(v);

export class MemoryJobStore implements JobStore {
  private readonly jobs = new Map<string, JobRecord>();
  private readonly results = new Map<string, Map<number, QuestionResult>>();

  async getJob(id: string): Promise<JobRecord | undefined> {
    const j = this.jobs.get(id);
    return j && clone(j);
  }

  async listJobs(): Promise<JobRecord[]> {
    return [...this.jobs.values()].map(clone);
  }

  async putJob(job: JobRecord): Promise<void> {
    this.jobs.set(job.id, clone(job));
  }

  async putResult(job: JobRecord, result: QuestionResult): Promise<void> {
    let forJob = this.results.get(job.id);
    if (!forJob) this.results.set(job.id, (forJob = new Map()));
    forJob.set(result.questionIndex, clone(result));
    this.jobs.set(job.id, clone(job));
  }

  async getResults(jobId: string): Promise<QuestionResult[]> {
    return [...(this.results.get(jobId)?.values() ?? [])].sort((a, b) => a.questionIndex - b.questionIndex).map(clone);
  }

  async deleteJob(id: string): Promise<void> {
    this.jobs.delete(id);
    this.results.delete(id);
  }
}

/** All trajectories of a job's results as Plantune JSONL (one Trajectory per line), in question order. */
export function resultsToJsonl(results: QuestionResult[]): string {
  return [...results]
    .sort((a, b) => a.questionIndex - b.questionIndex)
    .flatMap((r) => r.trajectories)
    .map((t) => JSON.stringify(t) + '\n')
    .join('');
}
