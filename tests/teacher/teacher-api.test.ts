// The worker's teacher API in Node, against the loopback fake teacher and fake-indexeddb: jobs from
// dropped files or a stored dataset, progress events, pause/resume and a simulated reload that never
// asks twice about a finished question, an unreachable endpoint that pauses the job, the API key kept
// out of everything the page sees, and "save as dataset" with every row scored and its provenance.
import { IDBKeyRange, indexedDB } from 'fake-indexeddb';
import { afterEach, describe, expect, it } from 'vitest';
import { openPlantuneDb } from '../../src/store/db';
import { getTrajectories, listDatasets, putDataset } from '../../src/store/datasets';
import { DexieJobStore, TeacherDatabase } from '../../src/teacher/dexie-store';
import { DEFAULT_PROMPTS } from '../../src/teacher/prompts';
import { createTeacherApi } from '../../src/worker/teacher-api';
import { TeacherInputsDb } from '../../src/worker/teacher-store';
import type { TeacherEvent, TeacherJobOptions } from '../../src/worker/teacher-types';
import { type FakeTeacher, type Script, closedPort, goodTeacher, startFakeTeacher } from './fake-server';

const KEY = 'sk-page-test-Zq81mVx3Lr5TyW0p';
const QUESTIONS = Array.from({ length: 5 }, (_, i) => ({ question: `Question ${i}: what is ${i} + ${i + 1}?`, answer: `${i} + ${i + 1} = ${2 * i + 1}\n#### ${2 * i + 1}` }));
const GOLDS = new Map(QUESTIONS.map((q) => [q.question, String(q.answer.split('#### ')[1])]));
/** plan, n = 2: two plans, two judgements (the fake teacher's plans differ), one execution. */
const PER_QUESTION = 5;

let counter = 0;
const servers: FakeTeacher[] = [];
const closers: (() => void)[] = [];
afterEach(async () => {
  closers.splice(0).forEach((c) => c());
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function serve(script: Script): Promise<FakeTeacher> {
  const s = await startFakeTeacher(script);
  servers.push(s);
  return s;
}

/** Databases of one "browser"; each `api()` is one page load (a fresh worker) over them. */
async function browser() {
  const id = `${process.pid}-${counter++}`;
  const db = await openPlantuneDb({ name: `plantune-teacher-api-${id}`, indexedDB, IDBKeyRange });
  closers.push(() => db.close());
  const load = () => {
    const jobStore = new DexieJobStore(new TeacherDatabase(`teacher-${id}`, { indexedDB, IDBKeyRange }));
    const inputs = new TeacherInputsDb(`inputs-${id}`, { indexedDB, IDBKeyRange });
    closers.push(() => (jobStore.db.close(), inputs.close()));
    const api = createTeacherApi({ openDb: async () => db, jobStore, inputs });
    /** The tab goes away: its worker can no longer write anything. */
    const kill = () => {
      jobStore.db.close();
      inputs.close();
    };
    return { api, kill };
  };
  return { db, load };
}

function jsonl(rows: object[], extra = ''): File {
  return new File([rows.map((r) => JSON.stringify(r)).join('\n') + '\n' + extra], 'train.jsonl');
}

function listen() {
  const events: TeacherEvent[] = [];
  const waiting: [(ev: TeacherEvent) => boolean, () => void][] = [];
  const onEvent = (ev: TeacherEvent) => {
    events.push(ev);
    for (const [match, resolve] of waiting) if (match(ev)) resolve();
  };
  const until = (match: (ev: TeacherEvent) => boolean) =>
    new Promise<void>((resolve) => (events.some(match) ? resolve() : waiting.push([match, resolve])));
  const ended = () => until((ev) => ev.type === 'status' && ev.status !== 'running');
  return { events, onEvent, until, ended };
}

function options(baseUrl: string, extra: Partial<TeacherJobOptions> = {}): TeacherJobOptions {
  return {
    questions: { kind: 'files', files: [jsonl(QUESTIONS)] },
    endpoint: { baseUrl, model: 'teacher-test', apiKey: KEY, maxRetries: 0, timeoutMs: 5000 },
    method: 'plan', n: 2, concurrency: 1,
    ...extra,
  };
}

/** Requests per question, in question order. */
function perQuestion(s: FakeTeacher): number[] {
  const counts = s.countsByQuestion();
  return QUESTIONS.map((q) => counts.get(q.question) ?? 0);
}

const lastStatus = (events: TeacherEvent[]) => events.filter((e) => e.type === 'status').at(-1) as Extract<TeacherEvent, { type: 'status' }>;

describe('teacher jobs in the worker', () => {
  it('runs a job from a dropped file: skipped rows listed, progress, results, and the key kept out of sight', async () => {
    const s = await serve(goodTeacher(GOLDS, { wrong: (q) => q.startsWith('Question 1') }));
    const { load } = await browser();
    const { api } = load();
    const l = listen();
    const file = jsonl([...QUESTIONS, QUESTIONS[2]], '{"question": "no answer here"}\nnot json\n');
    const started = await api.startJob(options(s.baseUrl, { questions: { kind: 'files', files: [file] } }), l.onEvent);
    expect(started).toMatchObject({ total: 5, skippedTotal: 3 });
    expect(started.skipped).toEqual([
      { file: 'train.jsonl', line: 6, reason: 'the same problem as train.jsonl line 3' },
      { file: 'train.jsonl', line: 7, reason: 'no "answer" (the gold answer, e.g. "#### 72")' },
      { file: 'train.jsonl', line: 8, reason: 'not valid JSON' },
    ]);
    await l.ended();
    expect(lastStatus(l.events)).toMatchObject({ status: 'done', message: expect.stringContaining('Finished: 5 of 5 questions done: 4 correct and 1 wrong trajectories, 0 failed') });
    expect(perQuestion(s)).toEqual(QUESTIONS.map(() => PER_QUESTION));
    expect(s.requests.every((r) => r.headers.authorization === `Bearer ${KEY}`)).toBe(true);

    const progress = l.events.filter((e) => e.type === 'progress');
    expect(progress.map((p) => p.counters.done)).toEqual([0, 1, 2, 3, 4, 5, 5]);
    const last = progress.at(-1)!;
    expect(last.counters).toMatchObject({ done: 5, total: 5, correct: 4, wrong: 1, failed: 0, usage: { requests: s.requests.length } });
    expect(last.counters.usage.promptTokens).toBe(20 * s.requests.length);
    expect(progress[2].etaMs).toBeGreaterThanOrEqual(0);
    const results = l.events.flatMap((e) => (e.type === 'result' ? [e.result] : []));
    expect(results.map((r) => r.questionIndex)).toEqual([0, 1, 2, 3, 4]);
    expect(results[1]).toMatchObject({ status: 'ok', gold: '3', trajectories: [{ answer: '4', correct: false, plan: ['Find the quantities given (variant 0).', 'Combine them to get what is asked.'] }] });

    const [info] = await api.listJobs();
    expect(info).toMatchObject({
      id: started.jobId, status: 'done', active: false, method: 'plan', source: 'train.jsonl', hasKey: true, keyRemembered: false,
      teacher: { kind: 'http', model: 'teacher-test', endpoint: s.baseUrl }, counters: { done: 5, correct: 4, wrong: 1 },
      settings: { n: 2, concurrency: 1, promptVersion: 'plantune-teacher-v1' },
    });
    expect((await api.jobResults(started.jobId, 2)).map((r) => r.questionIndex)).toEqual([4, 3]);
    expect(JSON.stringify([l.events, await api.listJobs(), await api.jobResults(started.jobId, 10)])).not.toContain(KEY);
  });

  it('pauses after the question in flight and resumes without asking again about a finished one', async () => {
    const s = await serve(goodTeacher(GOLDS));
    const { load } = await browser();
    const { api } = load();
    const first = listen();
    const { jobId } = await api.startJob(options(s.baseUrl), first.onEvent);
    await first.until((e) => e.type === 'progress' && e.counters.done >= 2);
    await api.pauseJob(jobId);
    await first.ended();
    const paused = (await api.listJobs())[0];
    expect(paused.status).toBe('paused');
    expect(lastStatus(first.events).message).toMatch(/^Paused: [23] of 5 questions done/);

    const second = listen();
    await api.resumeJob(jobId, {}, second.onEvent);
    await second.ended();
    expect(lastStatus(second.events).status).toBe('done');
    expect(perQuestion(s)).toEqual(QUESTIONS.map(() => PER_QUESTION));
  });

  it('resumes a job interrupted by a reload: finished questions are not asked again, the one in flight is', async () => {
    // Question 2's first plan request never gets an answer: the tab is reloaded while it waits.
    const good = goodTeacher(GOLDS);
    const s = await serve((r) => (r.question === QUESTIONS[2].question && r.purpose === 'plan' && r.nth === 0 ? { hang: true } : good(r)));
    const { load } = await browser();
    const tab1 = load();
    const l = listen();
    const { jobId } = await tab1.api.startJob(options(s.baseUrl, { endpoint: { kind: 'http', baseUrl: s.baseUrl, model: 'teacher-test', apiKey: KEY, rememberKey: true, maxRetries: 0 } }), l.onEvent);
    await l.until((e) => e.type === 'progress' && e.counters.done === 2);
    await expect.poll(() => s.requests.filter((r) => r.question === QUESTIONS[2].question).length).toBeGreaterThan(0);
    tab1.kill();

    const tab2 = load();
    const [before] = await tab2.api.listJobs();
    expect(before).toMatchObject({ id: jobId, status: 'interrupted', active: false, keyRemembered: true, counters: { done: 2 } });
    const again = listen();
    await tab2.api.resumeJob(jobId, {}, again.onEvent); // the remembered key: nothing to enter
    await again.ended();
    expect(lastStatus(again.events)).toMatchObject({ status: 'done' });
    const counts = perQuestion(s);
    expect(counts[0]).toBe(PER_QUESTION);
    expect(counts[1]).toBe(PER_QUESTION);
    expect(counts[2]).toBeGreaterThan(PER_QUESTION); // asked again: it had not finished
    expect(counts.slice(3)).toEqual([PER_QUESTION, PER_QUESTION]);
    expect(s.requests.every((r) => r.headers.authorization === `Bearer ${KEY}`)).toBe(true);
    await tab2.api.forgetJobKey(jobId);
    expect((await tab2.api.listJobs())[0].keyRemembered).toBe(false);
  });

  it('asks for a key that was not remembered after a reload, and refuses to run without it', async () => {
    const s = await serve(goodTeacher(GOLDS));
    const { load } = await browser();
    const tab1 = load();
    const l = listen();
    const { jobId } = await tab1.api.startJob(options(s.baseUrl, { limit: 2 }), l.onEvent);
    await l.until((e) => e.type === 'progress' && e.counters.done === 1);
    tab1.kill();
    await new Promise((r) => setTimeout(r, 50));
    const tab2 = load();
    const before = s.requests.length;
    await expect(tab2.api.resumeJob(jobId)).rejects.toThrow('This job was started with an API key that was not remembered in this browser: enter the key again to resume.');
    expect(s.requests.length).toBe(before);
    const again = listen();
    await tab2.api.resumeJob(jobId, { apiKey: KEY }, again.onEvent);
    await again.ended();
    expect((await tab2.api.listJobs())[0]).toMatchObject({ status: 'done', counters: { done: 2, total: 2 } });
  });

  it('pauses the job with a clear message when the endpoint cannot be reached, keeping what was done', async () => {
    const { load } = await browser();
    const { api } = load();
    const port = await closedPort();
    const l = listen();
    const { jobId } = await api.startJob(options(`http://127.0.0.1:${port}/v1`), l.onEvent);
    await l.ended();
    const status = lastStatus(l.events);
    expect(status.status).toBe('paused');
    expect(status.message).toMatch(new RegExp(`^cannot reach the teacher at http://127\\.0\\.0\\.1:${port}/v1: .*ECONNREFUSED`));
    expect(status.message).toContain('; the job is paused, nothing is lost (0 of 5 questions done');
    expect(status.message).toContain('CORS');
    const [info] = await api.listJobs();
    expect(info).toMatchObject({ id: jobId, status: 'paused', lastError: expect.stringContaining('cannot reach the teacher'), counters: { done: 0, failed: 0 } });
    expect(JSON.stringify([l.events, info])).not.toContain(KEY);

    // A refused key pauses the job the same way; the server's echo of the key is redacted.
    const s = await serve((r) => ({ status: 401, json: { error: { message: `Incorrect API key provided: ${String(r.headers.authorization).slice(7)}` } } }));
    const refused = listen();
    await api.startJob(options(s.baseUrl), refused.onEvent);
    await refused.ended();
    expect(lastStatus(refused.events)).toMatchObject({ status: 'paused', error: expect.stringContaining(`the teacher at ${s.baseUrl} refused the API key (HTTP 401): Incorrect API key provided: [redacted]`) });
    expect(lastStatus(refused.events).message).toContain('the job is paused, nothing is lost (0 of 5 questions done');
    expect(JSON.stringify([refused.events, await api.listJobs()])).not.toContain(KEY);
  });

  it('saves the trajectories as a dataset split by problem, scored, with provenance and failed questions as rejections', async () => {
    // Question 3's execution never states an answer: a lasting failure, recorded, not retried.
    const good = goodTeacher(GOLDS, { wrong: (q) => q.startsWith('Question 1') });
    let broken = true;
    const s = await serve((r) => (broken && r.question === QUESTIONS[3].question && r.purpose === 'execute' ? { json: { choices: [{ message: { content: 'I am not sure how to go on.' }, finish_reason: 'stop' }] } } : good(r)));
    const { db, load } = await browser();
    const { api } = load();
    const l = listen();
    const { jobId } = await api.startJob(options(s.baseUrl, { name: 'teacher plans' }), l.onEvent);
    await l.ended();
    const saved = await api.saveJobAsDataset(jobId, { evalFraction: 0.25, seed: 3 });
    expect(saved).toMatchObject({ name: 'teacher plans', correct: 3, failedQuestions: 1, counts: { trajectories: 4, problems: 4, train: 3, eval: 1 } });
    expect((await listDatasets(db)).map((d) => d.name)).toEqual(['teacher plans']);
    const rows = await getTrajectories(db, saved.datasetId);
    expect(rows.map((r) => r.rewards?.answerCorrectness).sort()).toEqual([0, 1, 1, 1]);
    for (const r of rows) {
      expect(r.meta).toMatchObject({ teacher: { model: 'teacher-test', endpoint: s.baseUrl }, method: 'plan-best-of-n', jobId, promptVersion: 'plantune-teacher-v1', questionFrom: { file: 'train.jsonl', line: r.meta!.questionIndex as number + 1 } });
    }
    const record = (await listDatasets(db))[0];
    expect(record.format).toBe('plantune');
    expect(record.rejections).toMatchObject({ total: 1, byReason: { 'no-answer': 1 }, examples: [{ file: 'train.jsonl', line: 4, reason: expect.stringContaining('question 4 failed (no-answer)') }] });
    expect(JSON.stringify(rows)).not.toContain(KEY);
    expect((await api.listJobs())[0].savedDatasets).toEqual([{ id: saved.datasetId, name: 'teacher plans' }]);

    // A lasting failure is asked about again only when asked to.
    await expect(api.resumeJob(jobId)).rejects.toThrow('The job is finished: ask again about its failed questions (retry failed) to go on with it.');
    broken = false;
    const before = perQuestion(s);
    const again = listen();
    await api.resumeJob(jobId, { apiKey: KEY, retryFailed: true }, again.onEvent);
    await again.ended();
    expect(again.events[0]).toMatchObject({ type: 'status', status: 'running', message: 'Asking teacher-test about 1 of 5 questions…' });
    expect(perQuestion(s).map((n, i) => n - before[i])).toEqual([0, 0, 0, PER_QUESTION, 0]);
    expect((await api.listJobs())[0]).toMatchObject({ status: 'done', counters: { done: 5, failed: 0, correct: 4, wrong: 1 } });
  });

  it('asks about the train split of a stored dataset, one question per problem, with the gold answers', async () => {
    const s = await serve(goodTeacher(new Map([['Q a?', '7'], ['Q b?', '8'], ['Q c?', '9']])));
    const { db, load } = await browser();
    const row = (id: string, q: string, gold: string, split: 'train' | 'eval', line: number) => ({
      id, problemId: `p-${q}`, question: q, plan: [], solution: '', finalAnswer: { text: gold, value: Number(gold) }, source: 'gsm8k' as const, meta: { file: 'f.jsonl', line }, split,
    });
    await putDataset(db, { id: 'ds-x', name: 'GSM8K bits', format: 'gsm8k', split: { evalFraction: 0.3, seed: 0 }, rejections: { total: 0, byReason: {}, examples: [] } }, [
      row('r3', 'Q b?', '8', 'train', 3), row('r1', 'Q a?', '7', 'train', 1), row('r2', 'Q a?', '7', 'train', 2), row('r4', 'Q c?', '9', 'eval', 4),
    ]);
    const { api } = load();
    const l = listen();
    const started = await api.startJob({ ...options(s.baseUrl), questions: { kind: 'dataset', datasetId: 'ds-x' }, method: 'subq', n: 1 }, l.onEvent);
    expect(started).toMatchObject({ total: 2, skippedTotal: 0 });
    await l.ended();
    const results = await api.jobResults(started.jobId, 10);
    expect(results.map((r) => [r.questionIndex, r.question, r.gold, r.trajectories[0].correct])).toEqual([[1, 'Q b?', '8', true], [0, 'Q a?', '7', true]]);
    expect((await api.listJobs())[0].source).toBe('dataset “GSM8K bits” (train split)');
    expect(s.requests.some((r) => r.question === 'Q c?')).toBe(false); // eval problems stay unseen
  });

  it('refuses bad settings, files and a second job with messages that say what to change', async () => {
    const s = await serve(goodTeacher(GOLDS, { score: () => 10 }));
    const { load } = await browser();
    const { api } = load();
    await expect(api.startJob(options(s.baseUrl, { n: 0 }))).rejects.toThrow('n must be a whole number from 1 to 64, got 0.');
    await expect(api.startJob(options(s.baseUrl, { temperature: 3 }))).rejects.toThrow('The temperature must be a number from 0 to 2, got 3.');
    await expect(api.startJob(options('ftp://x/v1'))).rejects.toThrow('must start with http:// or https://');
    await expect(api.startJob(options('http://user:pw@127.0.0.1/v1'))).rejects.toThrow('must not contain credentials');
    const broken = { ...options(s.baseUrl), prompts: { ...DEFAULT_PROMPTS, judge: { user: 'Rate it.' } } };
    await expect(api.startJob(broken)).rejects.toThrow('invalid prompts: prompt "judge" must contain {question}; prompt "judge" must contain {plan}');
    await expect(api.startJob(options(s.baseUrl, { questions: { kind: 'files', files: [new File(['{"q": 1}\n'], 'bad.jsonl')] } }))).rejects.toThrow(
      'No usable question in bad.jsonl: expected JSONL rows {"question": ..., "answer": "... #### 72"} (bad.jsonl line 1: no "question" text).',
    );
    await expect(api.startJob(options(s.baseUrl, { questions: { kind: 'dataset', datasetId: 'nope' } }))).rejects.toThrow('There is no dataset "nope" (was it deleted?).');
    expect(await api.listJobs()).toEqual([]);
    expect(s.requests).toHaveLength(0);

    const l = listen();
    const { jobId } = await api.startJob(options(s.baseUrl), l.onEvent);
    await expect(api.startJob(options(s.baseUrl))).rejects.toThrow(`The teacher job ${jobId} is running: pause or cancel it first.`);
    await expect(api.deleteJob(jobId)).rejects.toThrow('The job is running: pause or cancel it first.');
    await expect(api.saveJobAsDataset(jobId)).rejects.toThrow('pause it (or let it finish) before saving it as a dataset');
    await api.cancelJob(jobId);
    expect((await api.listJobs())[0].status).toBe('cancelled');
    await api.deleteJob(jobId);
    expect(await api.listJobs()).toEqual([]);
  });
});

