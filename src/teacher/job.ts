// A teacher job: every question of a list through one method, with progress events, its state saved
// after each finished question, pause / cancel, and resume that never asks the teacher again about a
// question already done.
//
//   const job = createJob({ settings: jobSettings({ method: 'plan', teacher }), total: questions.length });
//   const controller = new JobController();
//   const outcome = await runJob({ job, questions, teacher, store, controller, onProgress });
//   // later, after a pause, a cancel, a crash or a closed tab:
//   const again = await runJob({ job: (await store.getJob(job.id))!, questions, teacher, store });

import { asTeacherError } from './errors';
import { DEFAULT_SAMPLING, METHODS, type MethodName, type SamplingSettings, UsageMeter, toTrajectories } from './methods';
import { DEFAULT_PROMPTS, type PromptSet, promptHash, validatePrompts } from './prompts';
import { type TeacherQuestion, questionHash } from './questions';
import type { JobCounters, JobRecord, JobSettings, JobStatus, JobStore, QuestionFailure, QuestionResult } from './store';
import { type Teacher, type TokenUsage, addUsage, zeroUsage } from './types';

export interface JobSettingsInput {
  method: MethodName;
  teacher: Pick<Teacher, 'model' | 'endpoint'>;
  sampling?: Partial<SamplingSettings>;
  prompts?: PromptSet;
  concurrency?: number;
  maxConsecutiveFailures?: number;
}

export function jobSettings(input: JobSettingsInput): JobSettings {
  const sampling = { ...DEFAULT_SAMPLING, ...input.sampling };
  if (!Number.isInteger(sampling.n) || sampling.n < 1) throw new RangeError(`n must be a positive integer, got ${sampling.n}`);
  const prompts = input.prompts ?? DEFAULT_PROMPTS;
  const problems = validatePrompts(prompts);
  if (problems.length) throw new TypeError(`invalid prompts: ${problems.join('; ')}`);
  return {
    method: input.method,
    teacher: { model: input.teacher.model, endpoint: input.teacher.endpoint },
    sampling,
    prompts,
    concurrency: input.concurrency ?? 4,
    maxConsecutiveFailures: input.maxConsecutiveFailures ?? 5,
  };
}

export function emptyCounters(): JobCounters {
  return { done: 0, ok: 0, correct: 0, failed: 0, trajectories: 0, correctTrajectories: 0, usage: zeroUsage() };
}

function newId(): string {
  const c = globalThis.crypto as Crypto | undefined;
  if (c?.randomUUID) return c.randomUUID().slice(0, 8);
  return Math.floor(Math.random() * 2 ** 32).toString(16).padStart(8, '0');
}

export function createJob(options: { settings: JobSettings; total: number; id?: string; source?: string }): JobRecord {
  const now = new Date().toISOString();
  return {
    id: options.id ?? `synth-${newId()}`,
    createdAt: now,
    updatedAt: now,
    status: 'new',
    settings: options.settings,
    total: options.total,
    counters: emptyCounters(),
    source: options.source,
  };
}

/**
 * What differs between the settings a job was started with and the ones it is resumed with, one
 * line each; empty when resuming is safe. The endpoint, concurrency and failure limit may change.
 */
export function settingsMismatch(saved: JobSettings, now: JobSettings): string[] {
  const out: string[] = [];
  if (saved.method !== now.method) out.push(`method: ${saved.method} then, ${now.method} now`);
  if (saved.teacher.model !== now.teacher.model) out.push(`model: ${saved.teacher.model} then, ${now.teacher.model} now`);
  for (const k of Object.keys(saved.sampling) as (keyof SamplingSettings)[]) {
    if (saved.sampling[k] !== now.sampling[k]) out.push(`${k}: ${saved.sampling[k]} then, ${now.sampling[k]} now`);
  }
  if (saved.prompts.version !== now.prompts.version || promptHash(saved.prompts) !== promptHash(now.prompts)) {
    out.push(`prompts: ${saved.prompts.version} then, ${now.prompts.version}${promptHash(saved.prompts) !== promptHash(now.prompts) ? ' with different text' : ''} now`);
  }
  return out;
}

/** Pause: finish the questions in flight, start no more. Cancel: abort the questions in flight too. */
export class JobController {
  private readonly abort = new AbortController();
  private pauseRequested = false;
  private readonly listeners = new Set<() => void>();

  get signal(): AbortSignal {
    return this.abort.signal;
  }

  get paused(): boolean {
    return this.pauseRequested;
  }

  get cancelled(): boolean {
    return this.abort.signal.aborted;
  }

  pause(): void {
    this.pauseRequested = true;
    this.listeners.forEach((f) => f());
  }

  cancel(): void {
    this.pauseRequested = true;
    this.abort.abort();
    this.listeners.forEach((f) => f());
  }

  /** @internal */
  onChange(f: () => void): () => void {
    this.listeners.add(f);
    return () => this.listeners.delete(f);
  }
}

export interface JobProgress {
  event: 'start' | 'question' | 'end';
  jobId: string;
  status: JobStatus;
  done: number;
  total: number;
  ok: number;
  correct: number;
  failed: number;
  trajectories: number;
  usage: TokenUsage;
  /** Since this run started. */
  elapsedMs: number;
  /** Questions finished per minute in this run. */
  perMinute?: number;
  /** Estimated time to finish, from this run's pace. */
  etaMs?: number;
  /** The question just finished (event 'question'). */
  questionIndex?: number;
  failure?: QuestionFailure;
  /** Why the job stopped (event 'end', status 'stopped'). */
  error?: string;
}

export interface RunJobOptions {
  job: JobRecord;
  /** The job's questions, the same list (same indices, same texts) on every resume. */
  questions: TeacherQuestion[];
  teacher: Teacher;
  store: JobStore;
  controller?: JobController;
  /** Aborting it cancels the job. */
  signal?: AbortSignal;
  onProgress?: (p: JobProgress) => void;
  /** Called with each question's saved result. */
  onResult?: (r: QuestionResult) => void;
  /** Also redo questions that failed for lasting reasons (truncated, no answer, ...). Transient failures are always redone. */
  retryFailed?: boolean;
}

export interface JobOutcome {
  status: Exclude<JobStatus, 'new' | 'running'>;
  job: JobRecord;
  /** Why the job stopped, when status is 'stopped'. */
  error?: string;
}

function count(c: JobCounters, r: QuestionResult, sign: 1 | -1): void {
  c.done += sign;
  if (r.status === 'ok') c.ok += sign;
  else c.failed += sign;
  if (r.correct > 0) c.correct += sign;
  c.trajectories += sign * r.trajectories.length;
  c.correctTrajectories += sign * r.correct;
}

/** Thrown before any request when a resumed job's questions are not the ones it started with. */
export class JobInputError extends Error {
  override readonly name = 'JobInputError';
}

export async function runJob(options: RunJobOptions): Promise<JobOutcome> {
  const { questions, teacher, store } = options;
  const job = options.job;
  const controller = options.controller ?? new JobController();
  const settings = job.settings;
  if (teacher.model !== settings.teacher.model) {
    throw new JobInputError(`the job was made with teacher model "${settings.teacher.model}", not "${teacher.model}"`);
  }
  const method = METHODS[settings.method];
  if (!method) throw new JobInputError(`unknown method "${String(settings.method)}"`);
  const byIndex = new Map<number, TeacherQuestion>();
  for (const q of questions) {
    if (byIndex.has(q.index)) throw new JobInputError(`two questions have index ${q.index}`);
    byIndex.set(q.index, q);
  }

  // What is already done, checked against the questions given now.
  const previous = new Map<number, QuestionResult>();
  for (const r of await store.getResults(job.id)) {
    const q = byIndex.get(r.questionIndex);
    if (q && questionHash(q) !== r.questionHash) {
      throw new JobInputError(`question ${r.questionIndex} is not the one this job started with: the question list has changed`);
    }
    previous.set(r.questionIndex, r);
  }
  const counters = emptyCounters();
  counters.usage = { ...job.counters.usage };
  for (const r of previous.values()) count(counters, r, 1);
  job.counters = counters;
  job.total = questions.length;
  const redo = (r: QuestionResult | undefined) => !r || (r.status === 'failed' && (r.failure?.retryable || options.retryFailed === true));
  const pending = questions.filter((q) => redo(previous.get(q.index)));

  const started = Date.now();
  let finishedThisRun = 0;
  const finished = new Set<number>();
  let stopError: string | undefined;
  let consecutiveTransient = 0;
  const abortAll = new AbortController();
  const stop = (message: string) => {
    stopError ??= message;
    abortAll.abort();
  };
  const onCancel = () => abortAll.abort();
  controller.signal.addEventListener('abort', onCancel, { once: true });
  const onExternal = () => controller.cancel();
  options.signal?.addEventListener('abort', onExternal, { once: true });
  if (options.signal?.aborted) controller.cancel();

  const progress = (event: JobProgress['event'], extra: Partial<JobProgress> = {}): void => {
    if (!options.onProgress) return;
    const elapsedMs = Date.now() - started;
    const perMinute = finishedThisRun > 0 && elapsedMs > 0 ? (finishedThisRun / elapsedMs) * 60_000 : undefined;
    const remaining = pending.length - finishedThisRun;
    const etaMs = perMinute ? (remaining / perMinute) * 60_000 : undefined;
    try {
      options.onProgress({
        event,
        jobId: job.id,
        status: job.status,
        done: counters.done,
        total: job.total,
        ok: counters.ok,
        correct: counters.correct,
        failed: counters.failed,
        trajectories: counters.trajectories,
        usage: { ...counters.usage },
        elapsedMs,
        perMinute,
        etaMs,
        ...extra,
      });
    } catch {
      // a failing listener must not break the job
    }
  };

  const snapshot = (): JobRecord => {
    job.updatedAt = new Date().toISOString();
    return structuredClone(job);
  };

  job.status = 'running';
  job.lastError = undefined;
  await store.putJob(snapshot());
  progress('start');

  let saving: Promise<void> = Promise.resolve();
  const save = (result: QuestionResult): Promise<void> => {
    const record = snapshot();
    saving = saving.then(() => store.putResult(record, result));
    return saving;
  };

  const runOne = async (q: TeacherQuestion): Promise<void> => {
    const questionAbort = new AbortController();
    const onStop = () => questionAbort.abort();
    abortAll.signal.addEventListener('abort', onStop, { once: true });
    try {
      return await runQuestion(q, questionAbort.signal);
    } finally {
      abortAll.signal.removeEventListener('abort', onStop);
    }
  };

  /** One question through the method: its result, or undefined when it was abandoned (cancel, stop). */
  const attempt = async (q: TeacherQuestion, meter: UsageMeter): Promise<QuestionResult | undefined> => {
    const base = { jobId: job.id, questionIndex: q.index, questionHash: questionHash(q) };
    try {
      const drafts = await method(q, { prompts: settings.prompts, sampling: settings.sampling, meter });
      const trajectories = toTrajectories(q, drafts, {
        jobId: job.id,
        method: settings.method,
        teacher,
        prompts: settings.prompts,
        sampling: settings.sampling,
        usage: meter.usage,
        createdAt: new Date().toISOString(),
      });
      const correct = trajectories.filter((t) => t.rewards?.answerCorrectness === 1).length;
      consecutiveTransient = 0;
      return { ...base, status: 'ok', trajectories, correct, usage: { ...meter.usage }, finishedAt: new Date().toISOString() };
    } catch (e) {
      const te = asTeacherError(e);
      if (abortAll.signal.aborted || te.kind === 'aborted') return undefined; // not done: redone on resume
      if (te.fatal) {
        stop(te.message);
        return undefined;
      }
      if (te.transient && ++consecutiveTransient >= settings.maxConsecutiveFailures) {
        stop(`${consecutiveTransient} questions in a row failed; the last: ${te.message}`);
      }
      const failure: QuestionFailure = { kind: te.kind, message: te.message, retryable: te.transient };
      return { ...base, status: 'failed', trajectories: [], correct: 0, usage: { ...meter.usage }, failure, finishedAt: new Date().toISOString() };
    }
  };

  const runQuestion = async (q: TeacherQuestion, signal: AbortSignal): Promise<void> => {
    const meter = new UsageMeter(teacher, signal);
    const result = await attempt(q, meter);
    addUsage(counters.usage, meter.usage); // spent either way
    if (!result) return;
    const prev = previous.get(q.index);
    if (prev) count(counters, prev, -1);
    count(counters, result, 1);
    previous.set(q.index, result);
    await commit(result);
  };

  const commit = async (result: QuestionResult): Promise<void> => {
    try {
      await save(result);
    } catch (e) {
      stop(`could not save progress: ${e instanceof Error ? e.message : String(e)}`);
      return;
    }
    finishedThisRun++;
    finished.add(result.questionIndex);
    options.onResult?.(result);
    progress('question', { questionIndex: result.questionIndex, failure: result.failure });
  };

  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < pending.length && !controller.paused && !abortAll.signal.aborted) {
      await runOne(pending[next++]);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, Math.min(settings.concurrency, pending.length)) }, worker));
    await saving.catch(() => undefined);
  } finally {
    controller.signal.removeEventListener('abort', onCancel);
    options.signal?.removeEventListener('abort', onExternal);
  }

  const unfinished = pending.some((q) => !finished.has(q.index));
  let status: JobOutcome['status'];
  if (stopError !== undefined) status = 'stopped';
  else if (controller.cancelled) status = 'cancelled';
  else if (controller.paused && unfinished) status = 'paused';
  else status = 'done';
  job.status = status;
  job.lastError = stopError;
  await store.putJob(snapshot());
  progress('end', stopError !== undefined ? { error: stopError } : {});
  return { status, job: structuredClone(job), error: stopError };
}
