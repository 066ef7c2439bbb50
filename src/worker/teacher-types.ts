// The teacher part of the trainer worker's API: teacher distillation jobs (src/teacher) run in the
// worker, so the page never blocks, and their state lives in IndexedDB, so a job survives a reload.
// The teacher is an OpenAI-compatible endpoint or a Plantune model running on this GPU.
import type { DatasetCounts, Split } from '../store/datasets';
import type { JobStatus } from '../teacher/store';
import type { MethodName } from '../teacher/methods';
import type { PromptSet } from '../teacher/prompts';
import type { TokenUsage } from '../teacher/types';
import type { ModelRef } from './model-types';

/** An OpenAI-compatible chat-completions endpoint (OpenAI, vLLM, llama.cpp, Ollama, LM Studio, ...). */
export interface HttpEndpoint {
  /** The default kind of teacher: may be left out. */
  kind?: 'http';
  /** e.g. http://127.0.0.1:8000/v1 (no credentials in the URL). */
  baseUrl: string;
  model: string;
  /**
   * Held in the worker's memory only, unless `rememberKey` is true: then it is also stored in this
   * browser's IndexedDB (so a job resumes after a reload). Never logged, never in an error message,
   * never in a dataset or a listing.
   */
  apiKey?: string;
  rememberKey?: boolean;
  /** Per-request timeout in ms (default 120000) and retries of a failed request (default 5). */
  timeoutMs?: number;
  maxRetries?: number;
}

/** A model loaded by Plantune itself onto this GPU (the default model, a stored one, a served folder). */
export interface LocalEndpoint {
  kind: 'local';
  model: ModelRef;
}

export type TeacherEndpoint = HttpEndpoint | LocalEndpoint;

/**
 * Where the questions come from: a stored dataset's rows (one question per problem, with its gold
 * answer; the train split by default, so eval problems stay unseen), or JSONL files of
 * `{"question", "answer"}` rows (GSM8K's train.jsonl; the gold answer is the "#### x" line).
 */
export type QuestionSource =
  | { kind: 'dataset'; datasetId: string; split?: Split | 'all' }
  | { kind: 'files'; files: File[] };

export interface TeacherJobOptions {
  /** Shown in the job list and used as the dataset name; default from the questions' source. */
  name?: string;
  questions: QuestionSource;
  /** Only the first `limit` questions. */
  limit?: number;
  endpoint: TeacherEndpoint;
  /** plan: Plan-Tuning best-of-n; subq: sub-question decomposition (docs/teacher.md). */
  method: MethodName;
  /** Plans (plan, default 5) or decompositions (subq, default 1) sampled per question. */
  n?: number;
  /** Temperature of those samples (default 0.7). */
  temperature?: number;
  /** Questions (and HTTP requests) in flight at once (default 4; a local model generates one at a time). */
  concurrency?: number;
  /** Token limit of each generation (default 1024). */
  maxTokens?: number;
  /** The five prompt templates, edited or not (default: DEFAULT_PROMPTS of src/teacher/prompts.ts). */
  prompts?: PromptSet;
}

/** A question row that was not used, with where it is and why. */
export interface SkippedQuestion {
  file: string;
  /** 1-based line; 0 for a dataset row. */
  line: number;
  reason: string;
}

export interface StartedTeacherJob {
  jobId: string;
  /** Questions in the job. */
  total: number;
  /** The first skipped rows (all of them up to 50), and how many there were. */
  skipped: SkippedQuestion[];
  skippedTotal: number;
}

/** A job's status as the page sees it: 'interrupted' is a job left running by a closed or reloaded tab. */
export type TeacherJobStatus = JobStatus | 'interrupted';

export interface TeacherCounters {
  /** Questions asked and answered or failed, of `total`. */
  done: number;
  total: number;
  /** Trajectories whose final answer matches the gold one (kept for SFT), and the others (for offline RL). */
  correct: number;
  wrong: number;
  /** Questions that failed (no trajectory). */
  failed: number;
  usage: TokenUsage;
}

export interface TeacherJobInfo {
  id: string;
  name: string;
  status: TeacherJobStatus;
  /** Running in this worker right now. */
  active: boolean;
  method: MethodName;
  teacher: { kind: 'http' | 'local'; model: string; endpoint: string };
  /** Where the questions came from, e.g. "train.jsonl" or "dataset “GSM8K” (train split)". */
  source: string;
  counters: TeacherCounters;
  /** Why the job last stopped, when it did not finish. */
  lastError?: string;
  /** The HTTP job was started with an API key, and whether it is stored in this browser. */
  hasKey: boolean;
  keyRemembered: boolean;
  /** The datasets this job was saved as. */
  savedDatasets: { id: string; name: string }[];
  settings: { n: number; temperature: number; maxTokens: number; concurrency: number; promptVersion: string };
  createdAt: string;
  updatedAt: string;
}

/** One finished question, for the page's preview of recent trajectories. */
export interface TeacherResultView {
  questionIndex: number;
  question: string;
  gold?: string;
  status: 'ok' | 'failed';
  /** One per trajectory the question gave. */
  trajectories: { plan: string[]; answer: string; correct: boolean | null }[];
  failure?: string;
  usage: TokenUsage;
}

export type TeacherEvent =
  /** `error`: why the job stopped, when a problem (not the user) stopped it. */
  | { type: 'status'; jobId: string; status: TeacherJobStatus; message: string; error?: string }
  | {
      type: 'progress';
      jobId: string;
      counters: TeacherCounters;
      /** Questions per minute in this run, and the estimated time left (ms). */
      perMinute?: number;
      etaMs?: number;
      elapsedMs: number;
    }
  | { type: 'result'; jobId: string; result: TeacherResultView }
  /** A passing note: loading the local model, retrying a request. */
  | { type: 'notice'; jobId?: string; message: string };

export interface SaveJobOptions {
  /** Dataset name (default: the job's name). */
  name?: string;
  /** Fraction of problems held out for evaluation (default 0.1), and the split's seed (default 0). */
  evalFraction?: number;
  seed?: number;
}

export interface SavedTeacherDataset {
  datasetId: string;
  name: string;
  counts: DatasetCounts;
  /** Trajectories with answer correctness 1. */
  correct: number;
  /** Failed questions, listed as the dataset's rejections. */
  failedQuestions: number;
  /** Other stored datasets about some of the same problems (do not train on one and evaluate on the other). */
  sharedWith: { id: string; name: string; sharedProblems: number }[];
}

export interface TeacherApi {
  /**
   * Reads the questions, builds the teacher (loads a local model onto the GPU), stores the job and
   * starts it in the background; resolves with its id once it runs. One teacher job runs at a time.
   * `onEvent` must be `Comlink.proxy`'d.
   */
  startJob(options: TeacherJobOptions, onEvent?: (ev: TeacherEvent) => void): Promise<StartedTeacherJob>;
  /** Finishes the questions in flight, then pauses; resolves when it has. */
  pauseJob(jobId: string): Promise<void>;
  /**
   * Continues a paused, stopped, cancelled or interrupted job: finished questions are never asked
   * again (questions that failed for passing reasons, such as timeouts, are). `retryFailed` also asks
   * again about questions that failed for lasting ones (no final answer, cut off by the token limit):
   * the way to go on with a finished job that has failed questions. An HTTP job whose key was not
   * remembered needs `apiKey` again.
   */
  resumeJob(jobId: string, options?: { apiKey?: string; rememberKey?: boolean; retryFailed?: boolean }, onEvent?: (ev: TeacherEvent) => void): Promise<void>;
  /** Aborts the questions in flight and stops; what is done is kept. */
  cancelJob(jobId: string): Promise<void>;
  /** Deletes a job that is not running, with its results, questions and stored key. */
  deleteJob(jobId: string): Promise<void>;
  /** Newest first. */
  listJobs(): Promise<TeacherJobInfo[]>;
  /** The last `count` finished questions (by question order). */
  jobResults(jobId: string, count: number): Promise<TeacherResultView[]>;
  /** Removes a job's stored API key from this browser. */
  forgetJobKey(jobId: string): Promise<void>;
  /**
   * Stores every trajectory of the job (correct and wrong, each with rewards.answerCorrectness and
   * its provenance) as a dataset, split train/eval by problem; failed questions become its rejections.
   */
  saveJobAsDataset(jobId: string, options?: SaveJobOptions): Promise<SavedTeacherDataset>;
}
