import { IDBKeyRange, indexedDB } from 'fake-indexeddb';
import { afterEach, describe, expect, it } from 'vitest';
import { DexieJobStore, TeacherDatabase } from '../../src/teacher/dexie-store';
import { HttpTeacher, type HttpTeacherConfig } from '../../src/teacher/http-teacher';
import { JobController, JobInputError, type JobProgress, createJob, jobSettings, runJob, settingsMismatch } from '../../src/teacher/job';
import type { MethodName } from '../../src/teacher/methods';
import { withPrompts } from '../../src/teacher/prompts';
import { makeQuestion } from '../../src/teacher/questions';
import { type JobStore, MemoryJobStore, resultsToJsonl } from '../../src/teacher/store';
import { type FakeTeacher, type Script, closedPort, completion, goodTeacher, startFakeTeacher } from './fake-server';

const KEY = 'sk-job-test-4f9QnX7cV2bM8kL1';
const QUESTIONS = Array.from({ length: 8 }, (_, i) => makeQuestion(i, `Question ${i}: what is ${i} + ${i}?`, { text: String(2 * i), value: 2 * i }));
const GOLDS = new Map(QUESTIONS.map((q) => [q.question, q.gold!.text]));

const servers: FakeTeacher[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function serve(script: Script): Promise<FakeTeacher> {
  const s = await startFakeTeacher(script);
  servers.push(s);
  return s;
}

function teacherAt(baseUrl: string, extra: Partial<HttpTeacherConfig> = {}): HttpTeacher {
  return new HttpTeacher({ baseUrl, model: 'teacher-test', apiKey: KEY, retryBaseMs: 5, retryMaxMs: 20, maxRetries: 2, timeoutMs: 2000, ...extra });
}

function newJob(teacher: HttpTeacher, method: MethodName = 'plan', n = 2, concurrency = 2) {
  return createJob({ settings: jobSettings({ method, teacher, sampling: { n }, concurrency, maxConsecutiveFailures: 3 }), total: QUESTIONS.length });
}

/** Requests per question index, from the server's log. */
function perQuestion(s: FakeTeacher): number[] {
  const counts = s.countsByQuestion();
  return QUESTIONS.map((q) => counts.get(q.question) ?? 0);
}

function dexieStore(name: string): DexieJobStore {
  return new DexieJobStore(new TeacherDatabase(name, { indexedDB, IDBKeyRange }));
}

describe('teacher jobs', () => {
  it('runs every question, reports progress and sums the tokens the server reported', async () => {
    const s = await serve(goodTeacher(GOLDS, { wrong: (q) => q.startsWith('Question 3') }));
    const teacher = teacherAt(s.baseUrl);
    const store = new MemoryJobStore();
    const events: JobProgress[] = [];
    const outcome = await runJob({ job: newJob(teacher), questions: QUESTIONS, teacher, store, onProgress: (p) => events.push(p) });
    expect(outcome.status).toBe('done');
    // per question: 2 plans + 2 judges + 1 execution
    expect(perQuestion(s)).toEqual(QUESTIONS.map(() => 5));
    const c = outcome.job.counters;
    expect(c).toMatchObject({ done: 8, ok: 8, correct: 7, failed: 0, trajectories: 8, correctTrajectories: 7 });
    const promptTokens = s.requests.length * 20;
    const completionTokens = s.requests.reduce((sum, r) => sum + (r.purpose === 'judge' ? 12 : r.purpose === 'execute' ? 30 : 10), 0);
    expect(c.usage).toEqual({ promptTokens, completionTokens, requests: s.requests.length });

    expect(events[0]).toMatchObject({ event: 'start', done: 0, total: 8 });
    const q = events.filter((e) => e.event === 'question');
    expect(q.map((e) => e.done)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(q.every((e) => e.etaMs !== undefined && e.perMinute! > 0)).toBe(true);
    expect(events[events.length - 1]).toMatchObject({ event: 'end', status: 'done', done: 8, correct: 7 });

    const results = await store.getResults(outcome.job.id);
    const rows = resultsToJsonl(results).trim().split('\n').map((l) => JSON.parse(l));
    expect(rows.map((t) => t.meta.questionIndex)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(rows.map((t) => t.rewards.answerCorrectness)).toEqual([1, 1, 1, 0, 1, 1, 1, 1]);
    expect(JSON.stringify(await store.listJobs()) + JSON.stringify(results)).not.toContain(KEY);
  });

  it('resumes a job cancelled after k questions without asking again about any finished question', async () => {
    const s = await serve(async (r) => {
      await new Promise((res) => setTimeout(res, 5));
      return goodTeacher(GOLDS)(r);
    });
    const teacher = teacherAt(s.baseUrl);
    const store = new MemoryJobStore();
    const job = newJob(teacher, 'plan', 2, 2);
    const controller = new JobController();
    const first = await runJob({
      job,
      questions: QUESTIONS,
      teacher,
      store,
      controller,
      onProgress: (p) => {
        if (p.event === 'question' && p.done >= 3) controller.cancel();
      },
    });
    expect(first.status).toBe('cancelled');
    const doneFirst = (await store.getResults(job.id)).map((r) => r.questionIndex);
    expect(doneFirst.length).toBeGreaterThanOrEqual(3);
    expect(doneFirst.length).toBeLessThan(8);
    const before = perQuestion(s);

    const saved = (await store.getJob(job.id))!;
    expect(saved.status).toBe('cancelled');
    const second = await runJob({ job: saved, questions: QUESTIONS, teacher, store });
    expect(second.status).toBe('done');
    const after = perQuestion(s);
    for (const i of doneFirst) expect(after[i], `question ${i} was asked again`).toBe(before[i]);
    const results = await store.getResults(job.id);
    expect(results.map((r) => r.questionIndex)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(second.job.counters).toMatchObject({ done: 8, ok: 8, trajectories: 8 });
    // Tokens of both runs, abandoned questions included, are all counted.
    expect(second.job.counters.usage.requests).toBe(s.requests.length);
  });

  it('pauses after the questions in flight and resumes from there', async () => {
    const s = await serve(goodTeacher(GOLDS));
    const teacher = teacherAt(s.baseUrl);
    const store = new MemoryJobStore();
    const job = newJob(teacher, 'subq', 1, 2);
    const controller = new JobController();
    const first = await runJob({ job, questions: QUESTIONS, teacher, store, controller, onProgress: (p) => p.event === 'question' && p.done === 2 && controller.pause() });
    expect(first.status).toBe('paused');
    const done = await store.getResults(job.id);
    // Pausing abandons nothing: every request made belongs to a finished question.
    expect(perQuestion(s).reduce((a, b) => a + b, 0)).toBe(done.length * 2);
    const second = await runJob({ job: (await store.getJob(job.id))!, questions: QUESTIONS, teacher, store });
    expect(second.status).toBe('done');
    expect(perQuestion(s)).toEqual(QUESTIONS.map(() => 2));
  });

  it('stops with a clear message when the endpoint goes down, keeps what was done, and resumes elsewhere', async () => {
    let answered = 0;
    const s = await serve((r) => {
      if (r.purpose === 'execute' && ++answered === 3) {
        void s.close(); // the teacher dies mid-job
        return { destroy: true };
      }
      return goodTeacher(GOLDS)(r);
    });
    const teacher = teacherAt(s.baseUrl);
    const store = dexieStore('down-test');
    const job = newJob(teacher, 'plan', 2, 1);
    const events: JobProgress[] = [];
    const first = await runJob({ job, questions: QUESTIONS, teacher, store, onProgress: (p) => events.push(p) });
    expect(first.status).toBe('stopped');
    expect(first.error).toMatch(new RegExp(`^cannot reach the teacher at ${s.baseUrl.replace(/[.]/g, '\\.')}: `));
    expect(events[events.length - 1]).toMatchObject({ event: 'end', status: 'stopped', error: first.error });
    const kept = await store.getResults(job.id);
    expect(kept.map((r) => r.questionIndex)).toEqual([0, 1]);
    expect((await store.getJob(job.id))!).toMatchObject({ status: 'stopped', lastError: first.error, counters: { done: 2 } });

    // Same job, same store (reopened), a teacher at a new address: only the rest is asked.
    const s2 = await serve(goodTeacher(GOLDS));
    const teacher2 = teacherAt(s2.baseUrl);
    const reopened = dexieStore('down-test');
    const saved = (await reopened.getJob(job.id))!;
    const second = await runJob({ job: saved, questions: QUESTIONS, teacher: teacher2, store: reopened });
    expect(second.status).toBe('done');
    expect(perQuestion(s2)).toEqual([0, 0, 5, 5, 5, 5, 5, 5]);
    const rows = await reopened.getResults(job.id);
    expect(rows.map((r) => r.questionIndex)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(rows.every((r) => r.trajectories[0].source === 'plantune')).toBe(true);
    const db = reopened.db;
    expect(new TeacherDatabase(undefined, { indexedDB, IDBKeyRange }).name).toBe('plantune-teacher');
    expect(db.tables.map((t) => t.name).sort()).toEqual(['jobs', 'results']);
    expect(await db.results.get([job.id, 4])).toMatchObject({ questionIndex: 4, status: 'ok' });
    expect(JSON.stringify(await db.jobs.toArray()) + JSON.stringify(rows)).not.toContain(KEY);
  });

  it('stops at once on an endpoint that is not there at all', async () => {
    const teacher = teacherAt(`http://127.0.0.1:${await closedPort()}/v1`, { maxRetries: 1 });
    const store = new MemoryJobStore();
    const outcome = await runJob({ job: newJob(teacher), questions: QUESTIONS, teacher, store });
    expect(outcome.status).toBe('stopped');
    expect(outcome.error).toMatch(/^cannot reach the teacher at http:\/\/127\.0\.0\.1:\d+\/v1: .*ECONNREFUSED/);
    expect(outcome.job.counters.done).toBe(0);
  });

  it('records failed questions; transient failures are retried on resume, lasting ones only when asked', async () => {
    let healthy = false;
    const s = await serve((r) => {
      const q = r.question ?? '';
      if (q.startsWith('Question 2') && !healthy) return { status: 500, json: { error: { message: 'boom' } } };
      if (q.startsWith('Question 5') && r.purpose === 'execute' && !healthy) return completion('Step 1: ...', { finish: 'length' });
      return goodTeacher(GOLDS)(r);
    });
    const teacher = teacherAt(s.baseUrl, { maxRetries: 1 });
    const store = new MemoryJobStore();
    const job = newJob(teacher, 'plan', 1, 1);
    const first = await runJob({ job, questions: QUESTIONS, teacher, store });
    expect(first.status).toBe('done');
    expect(first.job.counters).toMatchObject({ done: 8, ok: 6, failed: 2 });
    const failures = (await store.getResults(job.id)).filter((r) => r.status === 'failed');
    expect(failures.map((r) => [r.questionIndex, r.failure!.kind, r.failure!.retryable])).toEqual([
      [2, 'server', true],
      [5, 'truncated', false],
    ]);

    healthy = true;
    const before = perQuestion(s);
    const second = await runJob({ job: (await store.getJob(job.id))!, questions: QUESTIONS, teacher, store });
    const mid = perQuestion(s);
    expect(mid.map((c, i) => c - before[i])).toEqual([0, 0, 3, 0, 0, 0, 0, 0]);
    expect(second.job.counters).toMatchObject({ done: 8, ok: 7, failed: 1 });

    const third = await runJob({ job: (await store.getJob(job.id))!, questions: QUESTIONS, teacher, store, retryFailed: true });
    expect(perQuestion(s).map((c, i) => c - mid[i])).toEqual([0, 0, 0, 0, 0, 3, 0, 0]);
    expect(third.job.counters).toMatchObject({ done: 8, ok: 8, failed: 0, correct: 8 });
  });

  it('stops after too many transient failures in a row', async () => {
    const s = await serve(() => ({ status: 503, raw: 'maintenance' }));
    const teacher = teacherAt(s.baseUrl, { maxRetries: 0 });
    const store = new MemoryJobStore();
    const outcome = await runJob({ job: newJob(teacher, 'plan', 1, 1), questions: QUESTIONS, teacher, store });
    expect(outcome.status).toBe('stopped');
    expect(outcome.error).toMatch(/^3 questions in a row failed; the last: the teacher at .* answered HTTP 503: maintenance/);
    expect(outcome.job.counters.failed).toBe(3);
  });

  it('refuses to resume with a different question list or different settings', async () => {
    const s = await serve(goodTeacher(GOLDS));
    const teacher = teacherAt(s.baseUrl);
    const store: JobStore = new MemoryJobStore();
    const job = newJob(teacher, 'plan', 1, 1);
    await runJob({ job, questions: QUESTIONS.slice(0, 2), teacher, store });
    const changed = [makeQuestion(0, 'Something else entirely?', { text: '1', value: 1 }), ...QUESTIONS.slice(1)];
    await expect(runJob({ job: (await store.getJob(job.id))!, questions: changed, teacher, store })).rejects.toBeInstanceOf(JobInputError);

    const a = job.settings;
    const b = jobSettings({ method: 'subq', teacher: { model: 'other', endpoint: 'x' }, sampling: { n: 3 }, prompts: withPrompts({ version: 'v2' }) });
    expect(settingsMismatch(a, b)).toEqual(['method: plan then, subq now', 'model: teacher-test then, other now', 'n: 1 then, 3 now', 'prompts: plantune-teacher-v1 then, v2 now']);
    expect(settingsMismatch(a, jobSettings({ method: 'plan', teacher: { model: 'teacher-test', endpoint: 'elsewhere' }, sampling: { n: 1 }, concurrency: 9 }))).toEqual([]);
  });

  it('cancels through an outside AbortSignal, abandoning the questions in flight', async () => {
    const s = await serve(() => ({ hang: true }));
    const teacher = teacherAt(s.baseUrl, { timeoutMs: 10_000 });
    const store = new MemoryJobStore();
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    const t0 = Date.now();
    const outcome = await runJob({ job: newJob(teacher), questions: QUESTIONS, teacher, store, signal: ac.signal });
    expect(outcome.status).toBe('cancelled');
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(await store.getResults(outcome.job.id)).toEqual([]);
    expect(outcome.job.counters.usage.requests).toBeGreaterThan(0);
  });
});
