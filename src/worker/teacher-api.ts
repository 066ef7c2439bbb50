// The worker's teacher-job handlers: one job runs at a time, in the background, through runJob
// (src/teacher/job.ts) with its state in IndexedDB after every question, so pause, cancel, a closed
// tab or an unreachable endpoint lose at most the questions in flight, and resume never asks the
// teacher again about a finished question. The API key lives in this worker's memory (and in
// IndexedDB only when the user asks): it is never in an event, a listing, an error or a dataset.
import { releaseProxy } from 'comlink';
import Dexie from 'dexie';
import type { PlantuneDb } from '../store/db';
import { DexieJobStore } from '../teacher/dexie-store';
import type { TeacherLogEvent } from '../teacher/http-teacher';
import { JobController, type JobProgress, createJob, jobSettings, runJob } from '../teacher/job';
import { DEFAULT_SAMPLING, METHOD_LABELS } from '../teacher/methods';
import { DEFAULT_PROMPTS, renderPrompt } from '../teacher/prompts';
import type { TeacherQuestion } from '../teacher/questions';
import type { JobRecord, JobSettings, QuestionResult } from '../teacher/store';
import { saveAsDataset } from './teacher-dataset';
import { type JobTeacher, httpTeacher, localTeacher, storedEndpoint } from './teacher-endpoint';
import { readQuestions } from './teacher-questions';
import { type PageJob, TeacherInputsDb } from './teacher-store';
import type { StartedTeacherJob, TeacherApi, TeacherCounters, TeacherEvent, TeacherJobInfo, TeacherJobOptions, TeacherResultView } from './teacher-types';

export interface TeacherApiDeps {
  openDb: () => Promise<PlantuneDb>;
  /** Default: the `plantune-teacher` and `plantune-teacher-inputs` databases (tests pass fake-indexeddb ones). */
  jobStore?: DexieJobStore;
  inputs?: TeacherInputsDb;
}

type OnEvent = ((ev: TeacherEvent) => void) | undefined;
type Emit = (ev: TeacherEvent) => void;

interface ActiveJob {
  jobId: string;
  controller: JobController;
  done: Promise<void>;
}

/** What a job needs to run: its record, questions and teacher. */
interface Launch {
  job: JobRecord;
  questions: TeacherQuestion[];
  teacher: JobTeacher;
  /** True once a request gave up because the endpoint could not be reached. */
  unreachable: () => boolean;
  /** Also ask again about questions that failed for lasting reasons. */
  retryFailed?: boolean;
}

/** Skipped question rows returned by startJob (all are counted). */
const LISTED_SKIPS = 50;

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));
const now = (): string => new Date().toISOString();

/** Events go to a Comlink proxy: a page that went away must not break the job. */
function emitter(onEvent: OnEvent): Emit {
  return (ev) => void Promise.resolve().then(() => onEvent?.(ev)).catch(() => undefined);
}

/** A Comlink-proxied callback holds a MessagePort until released. */
function release(onEvent: OnEvent): void {
  (onEvent as { [releaseProxy]?: () => void } | undefined)?.[releaseProxy]?.();
}

function whole(name: string, v: number | undefined, fallback: number, min: number, max: number): number {
  if (v === undefined) return fallback;
  if (!Number.isInteger(v) || v < min || v > max) throw new RangeError(`${name} must be a whole number from ${min} to ${max}, got ${v}.`);
  return v;
}

/** The job's settings from the page's options (checked: method, numbers, prompts). */
function settingsFrom(o: TeacherJobOptions, teacher: { model: string; endpoint: string }, local: boolean): JobSettings {
  if (o.method !== 'plan' && o.method !== 'subq') throw new Error(`Unknown method "${String(o.method)}": use plan (best-of-n plans) or subq (sub-questions).`);
  const temperature = o.temperature ?? DEFAULT_SAMPLING.temperature;
  if (!(temperature >= 0 && temperature <= 2)) throw new RangeError(`The temperature must be a number from 0 to 2, got ${temperature}.`);
  return jobSettings({
    method: o.method,
    teacher,
    sampling: { n: whole('n', o.n, o.method === 'plan' ? 5 : 1, 1, 64), temperature, maxTokens: whole('Max tokens', o.maxTokens, DEFAULT_SAMPLING.maxTokens, 1, 1_000_000) },
    concurrency: whole('Concurrency', o.concurrency, local ? 1 : 4, 1, 64),
    prompts: o.prompts ?? DEFAULT_PROMPTS,
  });
}

function counters(job: JobRecord): TeacherCounters {
  const c = job.counters;
  return { done: c.done, total: job.total, correct: c.correctTrajectories, wrong: c.trajectories - c.correctTrajectories, failed: c.failed, usage: { ...c.usage } };
}

function resultView(r: QuestionResult, q: TeacherQuestion | undefined): TeacherResultView {
  return {
    questionIndex: r.questionIndex,
    question: q?.question ?? r.trajectories[0]?.question ?? '',
    gold: q?.gold?.text ?? r.trajectories[0]?.finalAnswer.text,
    status: r.status,
    trajectories: r.trajectories.map((t) => ({
      plan: t.plan.map((s) => s.subQuestion),
      answer: String(t.meta?.generatedFinalAnswer ?? ''),
      correct: t.rewards?.answerCorrectness === undefined ? null : t.rewards.answerCorrectness === 1,
    })),
    ...(r.failure ? { failure: `${r.failure.kind}: ${r.failure.message}` } : {}),
    usage: { ...r.usage },
  };
}

/** A local model must read the first question's first prompt with room to answer. */
function checkFirstPrompt(jt: JobTeacher, settings: JobSettings, first: TeacherQuestion): void {
  if (!jt.local) return;
  const name = settings.method === 'plan' ? 'plan' : 'decompose';
  const tokens = jt.local.encodeChat(renderPrompt(settings.prompts[name], { question: first.question })).length;
  if (tokens >= jt.local.context) {
    throw new Error(
      `The ${name} prompt for the first question has ${tokens} tokens and ${settings.teacher.model} reads at most ${jt.local.context} tokens ` +
        '(prompt and answer together): shorten the prompt templates or choose a model with a longer context.',
    );
  }
}

export function createTeacherApi(deps: TeacherApiDeps): TeacherApi {
  const { openDb } = deps;
  const store = deps.jobStore ?? new DexieJobStore();
  const inputs = deps.inputs ?? new TeacherInputsDb();
  /** API keys given in this session, by job. */
  const keys = new Map<string, string>();
  let active: ActiveJob | null = null;

  /** The teacher of a stored job; throws before any request when its key is needed and missing. */
  async function teacherFor(page: PageJob, concurrency: number, emit: Emit): Promise<Omit<Launch, 'job' | 'questions'>> {
    const ep = page.endpoint;
    const notice = (m: string) => emit({ type: 'notice', jobId: page.id, message: m });
    if (ep.kind === 'local') return { teacher: await localTeacher(ep, openDb, notice), unreachable: () => false };
    const key = keys.get(page.id) ?? (await inputs.getKey(page.id));
    if (page.hasKey && !key) throw new Error('This job was started with an API key that was not remembered in this browser: enter the key again to resume.');
    let unreachable = false;
    const log = (e: TeacherLogEvent) => {
      if (e.type === 'retry') notice(`Retrying a ${e.purpose} request in ${((e.delayMs ?? 0) / 1000).toFixed(1)} s: ${e.message ?? e.kind}`);
      if (e.type === 'give-up' && e.kind === 'unreachable') unreachable = true;
    };
    return { teacher: httpTeacher(ep, key, concurrency, log), unreachable: () => unreachable };
  }

  /** Runs a job to its end, a pause, a cancel or a stop, reporting through `emit`. */
  async function execute(a: ActiveJob, { job, questions, teacher, unreachable, retryFailed }: Launch, emit: Emit): Promise<void> {
    const byIndex = new Map(questions.map((q) => [q.index, q]));
    const onProgress = (p: JobProgress) =>
      emit({ type: 'progress', jobId: job.id, counters: counters(job), perMinute: p.perMinute, etaMs: p.etaMs, elapsedMs: p.elapsedMs });
    const onResult = (r: QuestionResult) => emit({ type: 'result', jobId: job.id, result: resultView(r, byIndex.get(r.questionIndex)) });
    try {
      const left = job.total - job.counters.done + (retryFailed ? job.counters.failed : 0);
      emit({ type: 'status', jobId: job.id, status: 'running', message: `Asking ${teacher.teacher.model} about ${left} of ${job.total} questions…` });
      const outcome = await runJob({ job, questions, teacher: teacher.teacher, store, controller: a.controller, onProgress, onResult, retryFailed });
      const c = counters(outcome.job);
      const tally = `${c.done} of ${c.total} questions done: ${c.correct} correct and ${c.wrong} wrong trajectories, ${c.failed} failed questions`;
      if (outcome.status === 'stopped') {
        // Stopped by the teacher (unreachable, key refused, ...): paused, for a resume to pick up.
        await store.putJob({ ...outcome.job, status: 'paused', updatedAt: now() });
        const hint = unreachable() ? '. The server is down, the address is wrong, or it does not accept requests from this page (CORS)' : '';
        emit({ type: 'status', jobId: job.id, status: 'paused', message: `${outcome.error}${hint}; the job is paused, nothing is lost (${tally}). Resume it when the teacher is back.`, error: outcome.error });
      } else if (outcome.status === 'done') {
        const next = c.correct + c.wrong > 0 ? ' Save it as a dataset to train on it.' : '';
        emit({ type: 'status', jobId: job.id, status: 'done', message: `Finished: ${tally}.${next}` });
      } else {
        emit({ type: 'status', jobId: job.id, status: outcome.status, message: `${outcome.status === 'paused' ? 'Paused' : 'Cancelled'}: ${tally}; what is done is kept.` });
      }
    } catch (e) {
      await store.putJob({ ...job, status: 'paused', lastError: message(e), updatedAt: now() }).catch(() => undefined);
      emit({ type: 'status', jobId: job.id, status: 'paused', message: `The job could not go on: ${message(e)}. Nothing done is lost.`, error: message(e) });
    } finally {
      teacher.close();
    }
  }

  /**
   * Reserves the worker (synchronously, so two calls cannot both start a job), prepares a job with
   * `setup` and runs it in the background. A failed setup frees the worker and leaves nothing running.
   */
  async function start(jobId: string, onEvent: OnEvent, setup: (a: ActiveJob, emit: Emit) => Promise<Launch>): Promise<void> {
    if (active) throw new Error(`The teacher job ${active.jobId} is running: pause or cancel it first.`);
    const a: ActiveJob = { jobId, controller: new JobController(), done: Promise.resolve() };
    active = a;
    const emit = emitter(onEvent);
    let launch: Launch;
    try {
      launch = await setup(a, emit);
    } catch (e) {
      active = null;
      release(onEvent);
      throw e;
    }
    a.done = execute(a, launch, emit).finally(() => {
      active = null;
      release(onEvent);
    });
  }

  async function storedJob(jobId: string): Promise<{ job: JobRecord; page: PageJob }> {
    const job = await store.getJob(jobId);
    if (!job) throw new Error(`There is no teacher job "${jobId}" (was it deleted?).`);
    const page = await inputs.jobs.get(jobId);
    if (!page) throw new Error(`The teacher job "${jobId}" has no stored questions in this browser: it cannot be resumed or saved here.`);
    return { job, page };
  }

  async function info(job: JobRecord): Promise<TeacherJobInfo> {
    const page = await inputs.jobs.get(job.id);
    const running = active?.jobId === job.id;
    const s = job.settings;
    return {
      id: job.id,
      name: page?.name ?? job.id,
      status: running ? 'running' : job.status === 'running' || job.status === 'new' ? 'interrupted' : job.status,
      active: running,
      method: s.method,
      teacher: { kind: page?.endpoint.kind ?? 'http', model: s.teacher.model, endpoint: s.teacher.endpoint },
      source: page?.source ?? job.source ?? '',
      counters: counters(job),
      ...(job.lastError !== undefined ? { lastError: job.lastError } : {}),
      hasKey: page?.hasKey ?? false,
      keyRemembered: await inputs.hasStoredKey(job.id),
      savedDatasets: page?.savedDatasets ?? [],
      settings: { n: s.sampling.n, temperature: s.sampling.temperature, maxTokens: s.sampling.maxTokens, concurrency: s.concurrency, promptVersion: s.prompts.version },
      createdAt: job.createdAt,
      updatedAt: job.updatedAt,
    };
  }

  return {
    async startJob(options, onEvent) {
      let started: StartedTeacherJob | undefined;
      await start('(starting)', onEvent, async (a, emit) => {
        const endpoint = await storedEndpoint(options.endpoint, openDb);
        const teacherName = endpoint.kind === 'local' ? endpoint.name : endpoint.model;
        const settings = settingsFrom(options, { model: teacherName, endpoint: endpoint.kind === 'local' ? 'local' : endpoint.baseUrl }, endpoint.kind === 'local');
        const input = await readQuestions(openDb, options.questions, options.limit);
        const job = createJob({ settings, total: input.questions.length, source: input.description });
        a.jobId = job.id;
        const apiKey = options.endpoint.kind !== 'local' ? options.endpoint.apiKey?.trim() || undefined : undefined;
        const page: PageJob = {
          id: job.id,
          name: options.name?.trim() || `${input.description} · ${METHOD_LABELS[settings.method]} · ${teacherName}`,
          endpoint, hasKey: apiKey !== undefined, source: input.description, savedDatasets: [],
        };
        if (apiKey) keys.set(job.id, apiKey);
        let teacher: Omit<Launch, 'job' | 'questions'> | undefined;
        try {
          teacher = await teacherFor(page, settings.concurrency, emit);
          checkFirstPrompt(teacher.teacher, settings, input.questions[0]);
          await inputs.addJob(page, { jobId: job.id, questions: input.questions, origins: input.origins });
          if (apiKey && options.endpoint.kind !== 'local' && options.endpoint.rememberKey) await inputs.rememberKey(job.id, apiKey);
          await store.putJob(job);
        } catch (e) {
          teacher?.teacher.close();
          keys.delete(job.id);
          throw e;
        }
        started = { jobId: job.id, total: job.total, skipped: input.skipped.slice(0, LISTED_SKIPS), skippedTotal: input.skipped.length };
        return { job, questions: input.questions, ...teacher };
      });
      return started!;
    },

    async pauseJob(jobId) {
      if (active?.jobId === jobId) {
        active.controller.pause();
        await active.done;
        return;
      }
      const job = await store.getJob(jobId);
      // Left running by a closed tab: paused where its last saved question left it.
      if (job && (job.status === 'running' || job.status === 'new')) await store.putJob({ ...job, status: 'paused', updatedAt: now() });
    },

    async resumeJob(jobId, options = {}, onEvent) {
      await start(jobId, onEvent, async (_a, emit) => {
        const stored = await storedJob(jobId);
        const { job } = stored;
        let { page } = stored;
        if (job.status === 'done' && job.counters.failed === 0) throw new Error('The job is finished: there is nothing to resume.');
        if (job.status === 'done' && !options.retryFailed) throw new Error('The job is finished: ask again about its failed questions (retry failed) to go on with it.');
        const questions = (await inputs.questions.get(jobId))?.questions;
        if (!questions) throw new Error(`The questions of teacher job "${jobId}" are missing from this browser's storage: start a new job.`);
        const key = options.apiKey?.trim();
        if (key && page.endpoint.kind === 'http') {
          keys.set(jobId, key);
          if (options.rememberKey) await inputs.rememberKey(jobId, key);
          if (!page.hasKey) await inputs.jobs.put((page = { ...page, hasKey: true }));
        }
        return { job, questions, retryFailed: options.retryFailed === true, ...(await teacherFor(page, job.settings.concurrency, emit)) };
      });
    },

    async cancelJob(jobId) {
      if (active?.jobId === jobId) {
        active.controller.cancel();
        await active.done;
        return;
      }
      const job = await store.getJob(jobId);
      if (job && job.status !== 'done' && job.status !== 'cancelled') await store.putJob({ ...job, status: 'cancelled', updatedAt: now() });
    },

    async deleteJob(jobId) {
      if (active?.jobId === jobId) throw new Error('The job is running: pause or cancel it first.');
      await store.deleteJob(jobId);
      await inputs.removeJob(jobId);
      keys.delete(jobId);
    },

    async listJobs() {
      return Promise.all((await store.listJobs()).map(info));
    },

    async jobResults(jobId, count) {
      const n = Math.max(0, Math.min(100, Math.floor(count)));
      const rows = await store.db.results.where('[jobId+questionIndex]').between([jobId, Dexie.minKey], [jobId, Dexie.maxKey]).reverse().limit(n).toArray();
      const questions = (await inputs.questions.get(jobId))?.questions ?? [];
      const byIndex = new Map(questions.map((q) => [q.index, q]));
      return rows.map((r) => resultView(r, byIndex.get(r.questionIndex)));
    },

    async forgetJobKey(jobId) {
      keys.delete(jobId);
      await inputs.forgetKey(jobId);
    },

    async saveJobAsDataset(jobId, options = {}) {
      if (active?.jobId === jobId) throw new Error('The job is running: pause it (or let it finish) before saving it as a dataset.');
      const { page } = await storedJob(jobId);
      const input = await inputs.questions.get(jobId);
      if (!input) throw new Error(`The questions of teacher job "${jobId}" are missing from this browser's storage.`);
      const saved = await saveAsDataset(await openDb(), await store.getResults(jobId), input, {
        name: options.name?.trim() || page.name, evalFraction: options.evalFraction ?? 0.1, seed: options.seed ?? 0, source: page.source,
      });
      await inputs.jobs.put({ ...page, savedDatasets: [...page.savedDatasets, { id: saved.datasetId, name: saved.name }] });
      return saved;
    },
  };
}
