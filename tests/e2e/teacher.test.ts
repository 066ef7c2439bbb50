// End-to-end: the Teacher section of the real page in headless Chromium, against the fake
// OpenAI-compatible teacher on loopback (the worker fetches it across origins: the fake server answers
// CORS). A 5-question job runs with progress and counters; the tab is reloaded while a question is in
// flight and the job resumes (the key, not remembered, entered again) without asking again about a
// finished question; its trajectories are saved as a dataset that the Data section lists; and with
// the endpoint down the job pauses with a clear message. The tests share one page and run in order.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync } from 'node:fs';
import type { Page } from 'playwright';
import { startBrowserSession } from '../../scripts/browser-session.mjs';
import { type FakeTeacher, closedPort, goodTeacher, startFakeTeacher } from '../teacher/fake-server';

const KEY = 'sk-e2e-teacher-Hq3vN8xLp2Wm5RtY';
const QUESTIONS = Array.from({ length: 5 }, (_, i) => ({ question: `Question ${i}: Ann has ${i + 2} pens and buys ${i + 3} more. How many pens does she have?`, answer: `#### ${2 * i + 5}` }));
const GOLDS = new Map(QUESTIONS.map((q) => [q.question, q.answer.slice(5)]));
/** plan, n = 2: two plans, two judgements (the fake teacher's plans differ), one execution. */
const PER_QUESTION = 5;
const shot = (name: string): string => `test-results/${name}.png`;

let session: Awaited<ReturnType<typeof startBrowserSession>>;
let fake: FakeTeacher;
let page: Page;
let downUrl = '';
const errors: string[] = [];

beforeAll(async () => {
  const good = goodTeacher(GOLDS, { wrong: (q) => q.startsWith('Question 1') });
  // Question 2's first plan request is never answered: the tab is reloaded while it waits.
  // Every other reply takes a moment, so the job's progress can be watched.
  fake = await startFakeTeacher(async (r) => {
    if (r.question === QUESTIONS[2].question && r.purpose === 'plan' && r.nth === 0) return { hang: true };
    return { ...(await good(r)), delayMs: 60 } as Awaited<ReturnType<typeof good>>;
  });
  downUrl = `http://127.0.0.1:${await closedPort()}/v1`;
  session = await startBrowserSession();
  const context = await session.browser.newContext({ viewport: { width: 1100, height: 900 } });
  page = await context.newPage();
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    const url = m.location().url;
    // The browser reports failed requests itself: the favicon the page does not have, the teacher that is down.
    if (m.type() === 'error' && !url.endsWith('/favicon.ico') && !url.startsWith(downUrl) && !m.text().includes('ERR_CONNECTION_REFUSED')) errors.push(`${m.text()} ${url}`);
  });
  await page.goto(session.url);
  await page.locator('#teacher-jobs-empty').waitFor({ timeout: 30_000 });
  mkdirSync('test-results', { recursive: true });
}, 90_000);
afterAll(async () => {
  await session?.close();
  await fake?.close();
});

const stat = (key: string) => page.locator(`#teacher-counters [data-stat="${key}"]`).getAttribute('data-value').then(Number);
const statusText = () => page.locator('#teacher-status').textContent();
const jobStatus = () => page.locator('.teacher-jobs tbody tr [data-stat="status"]').first().textContent();

/** Requests the fake teacher got about each question, in question order. */
function perQuestion(): number[] {
  const counts = fake.countsByQuestion();
  return QUESTIONS.map((q) => counts.get(q.question) ?? 0);
}

describe('the Teacher section', () => {
  it('runs a 5-question job from a question file with progress and counters', async () => {
    await page.fill('#teacher-url', fake.baseUrl);
    await page.fill('#teacher-model', 'teacher-e2e');
    await page.fill('#teacher-key', KEY);
    await page.setInputFiles('#teacher-files', { name: 'questions.jsonl', mimeType: 'application/json', buffer: Buffer.from(QUESTIONS.map((q) => JSON.stringify(q)).join('\n')) });
    expect(await page.locator('#teacher-selection').textContent()).toMatch(/^1 file chosen .*questions\.jsonl$/);
    await page.selectOption('#teacher-method', 'plan');
    await page.fill('#teacher-n', '2');
    await page.fill('#teacher-concurrency', '1');
    await page.click('#teacher-start');

    await expect.poll(() => stat('done'), { timeout: 30_000 }).toBeGreaterThanOrEqual(1);
    expect(await page.locator('#teacher-progress-text').textContent()).toMatch(/^[12] of 5 questions · [\d.]+ questions\/min · ETA \d+/);
    expect(await stat('tokens')).toBeGreaterThan(0);
    expect(await page.locator('#teacher-pause').isDisabled()).toBe(false);
    expect(await page.locator('#teacher-start').isDisabled()).toBe(true);
    expect(await jobStatus()).toBe('running');
    expect(await page.locator('#teacher-recent .trajectory').count()).toBeGreaterThanOrEqual(1);
    await page.locator('#teacher').screenshot({ path: shot('teacher-progress') });
  });

  it('resumes after a reload mid-job without asking again about a finished question', async () => {
    await expect.poll(() => stat('done'), { timeout: 30_000 }).toBe(2);
    await expect.poll(() => fake.requests.some((r) => r.question === QUESTIONS[2].question)).toBe(true);
    await page.reload();
    await expect.poll(jobStatus, { timeout: 30_000 }).toBe('interrupted');
    expect(await statusText()).toContain('This job was interrupted (the tab was closed or reloaded) after 2 of 5 questions. Resume it to continue');
    expect(await statusText()).toContain('Enter the API key above first: it was not remembered in this browser.');
    expect(await page.locator('#teacher-url').inputValue()).toBe(fake.baseUrl); // kept between visits (the key is not)
    expect(await page.locator('#teacher-key').inputValue()).toBe('');

    const asked = fake.requests.length;
    await page.click('#teacher-resume');
    await expect.poll(statusText).toContain('This job was started with an API key that was not remembered in this browser: enter the key again to resume.');
    expect(fake.requests.length).toBe(asked);
    await page.locator('#teacher').screenshot({ path: shot('teacher-interrupted') });

    await page.fill('#teacher-key', KEY);
    await page.click('#teacher-resume');
    await expect.poll(statusText, { timeout: 60_000 }).toMatch(/^Finished/);
    expect(await statusText()).toBe('Finished: 5 of 5 questions done: 4 correct and 1 wrong trajectories, 0 failed questions. Save it as a dataset to train on it.');
    expect([await stat('done'), await stat('correct'), await stat('wrong'), await stat('failed')]).toEqual([5, 4, 1, 0]);
    const counts = perQuestion();
    expect([counts[0], counts[1], counts[3], counts[4]]).toEqual([PER_QUESTION, PER_QUESTION, PER_QUESTION, PER_QUESTION]);
    expect(counts[2]).toBeGreaterThan(PER_QUESTION); // in flight at the reload: asked again
    expect(fake.requests.every((r) => r.headers.authorization === `Bearer ${KEY}`)).toBe(true);
    expect(await page.locator('#teacher-recent .trajectory').count()).toBe(5);
    expect(await page.locator('#teacher-recent .badge.wrong').count()).toBe(1);
    await page.locator('#teacher').screenshot({ path: shot('teacher-done') });
  });

  it('saves the trajectories as a dataset that the Data section lists', async () => {
    await page.fill('#teacher-save-name', 'teacher e2e');
    await page.fill('#teacher-save-eval', '0.2');
    await page.click('#teacher-save');
    await expect.poll(statusText).toMatch(/^Saved/);
    expect(await statusText()).toBe('Saved “teacher e2e” as a dataset: 5 trajectories (4 correct) about 5 problems, 4 train / 1 eval. It is in the Data section.');
    const row = page.locator('#data-list table.datasets tbody tr', { hasText: 'teacher e2e' });
    await expect.poll(() => row.count()).toBe(1);
    expect(await row.locator('[data-stat="trajectories"]').getAttribute('data-value')).toBe('5');
    expect(await row.locator('th.name .format').textContent()).toContain('Plantune');
    await page.locator('#data').screenshot({ path: shot('teacher-saved-in-data') });
  });

  it('pauses with a clear message when the endpoint is down, and loses nothing', async () => {
    await page.fill('#teacher-url', downUrl);
    await page.click('#teacher-requests summary');
    await page.fill('#teacher-retries', '0');
    await page.setInputFiles('#teacher-files', { name: 'questions.jsonl', mimeType: 'application/json', buffer: Buffer.from(QUESTIONS.map((q) => JSON.stringify(q)).join('\n')) });
    await page.click('#teacher-start');
    await expect.poll(statusText, { timeout: 30_000 }).toContain('the job is paused, nothing is lost');
    const text = (await statusText())!;
    expect(text).toContain(`cannot reach the teacher at ${downUrl}: `);
    expect(text).toContain('The server is down, the address is wrong, or it does not accept requests from this page (CORS); the job is paused, nothing is lost (0 of 5 questions done');
    expect(await page.locator('#teacher-status').getAttribute('class')).toContain('error');
    await expect.poll(jobStatus).toBe('paused');
    expect(await page.locator('#teacher-resume').isDisabled()).toBe(false);
    expect(text).not.toContain(KEY);
    await page.locator('#teacher').screenshot({ path: shot('teacher-endpoint-down') });
  });

  it('runs the built-in model as a local teacher: prompts too long for it are refused first, a short one is asked', async () => {
    const jobs = await page.locator('.teacher-jobs tbody tr').count();
    await page.check('input[name="teacher-kind"][value="local"]');
    expect(await page.locator('#teacher-url').isVisible()).toBe(false);
    await page.selectOption('#teacher-local-model', 'default');
    await page.fill('#teacher-limit', '1');
    await page.fill('#teacher-max-tokens', '24');
    await page.click('#teacher-start');
    await expect.poll(statusText, { timeout: 60_000 }).toMatch(/^The plan prompt/);
    expect(await statusText()).toMatch(/^The plan prompt for the first question has \d+ tokens and plantune-tiny reads at most 640 tokens \(prompt and answer together\): shorten the prompt templates or choose a model with a longer context\.$/);
    expect(await page.locator('.teacher-jobs tbody tr').count()).toBe(jobs);

    await page.click('#teacher-prompts summary');
    await page.fill('#teacher-prompt-plan-system', '');
    await page.fill('#teacher-prompt-plan-user', 'Plan the steps for: {question}');
    expect(await page.locator('#teacher-prompts summary').textContent()).toBe('Prompt templates (plantune-teacher-v1, edited)');
    // Every notice this start shows, in order (one can stand for less than a poll interval).
    await page.evaluate(() => {
      const el = document.getElementById('teacher-notice')!;
      const seen: string[] = [];
      (window as unknown as { teacherNotices: string[] }).teacherNotices = seen;
      new MutationObserver(() => seen.push(el.textContent ?? '')).observe(el, { childList: true, characterData: true, subtree: true });
    });
    await page.click('#teacher-start');
    await expect.poll(statusText, { timeout: 120_000 }).toMatch(/^Finished/);
    const seen = await page.evaluate(() => (window as unknown as { teacherNotices: string[] }).teacherNotices);
    expect(seen[0]).toBe(''); // the refused start's "Loaded …" does not stand for this one
    expect(seen.filter((n) => n !== '')).toEqual(['Loading the local teacher plantune-tiny…', expect.stringMatching(/^Loaded plantune-tiny \(1\.\d+ M parameters, 640 tokens of context, its chat template\)\.$/)]);
    expect(await page.locator('.teacher-jobs tbody tr').count()).toBe(jobs + 1);
    // Whatever the tiny model says is recorded: a scored trajectory, or a failed question with its reason.
    expect((await stat('done')) + 0).toBe(1);
    expect((await stat('correct')) + (await stat('wrong')) + (await stat('failed'))).toBeGreaterThanOrEqual(1);
    expect(await stat('tokens')).toBeGreaterThan(0);
    expect(await page.locator('#teacher-job-about').textContent()).toContain('plantune-tiny (local model)');
    await page.locator('#teacher').screenshot({ path: shot('teacher-local') });
    await page.click('#teacher-prompts-reset');
    expect(errors).toEqual([]);
  });
});
