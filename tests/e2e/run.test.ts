// End-to-end: the Run section of the real page in headless Chromium (SwiftShader here). The memory
// check refuses a batch this adapter cannot hold; an invalid field blocks Start with its message; a
// short SFT of the default model on synthetic problems starts, runs, pauses, resumes and completes,
// with the runs list and the status line following it; the chosen run survives a reload. Without
// WebGPU the page says so and Start stays disabled. The tests share one page and run in order.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync } from 'node:fs';
import { chromium, type Page } from 'playwright';
import { startBrowserSession } from '../../scripts/browser-session.mjs';
import { browserArgs, findBrowser } from '../../scripts/find-browser.mjs';

const shot = (name: string): string => `test-results/${name}.png`;
const STEPS = 8;

let session: Awaited<ReturnType<typeof startBrowserSession>>;
let page: Page;
const errors: string[] = [];

const startDisabled = () => page.locator('#run-start').isDisabled();
const blocked = () => page.locator('#run-blocked').textContent();
const runStatus = () => page.locator('#run-status').textContent();
const row = () => page.locator('table.runs tbody tr').first();
const rowStatus = () => row().locator('[data-stat="status"]').getAttribute('data-value');
const rowStep = async () => Number(await row().locator('[data-stat="step"]').getAttribute('data-value'));

/** Fills a run form field and leaves it, so the page sees the change. */
async function set(key: string, value: string): Promise<void> {
  await page.fill(`#run-${key}`, value);
  await page.locator(`#run-${key}`).blur();
}

beforeAll(async () => {
  session = await startBrowserSession();
  const context = await session.browser.newContext({ viewport: { width: 1100, height: 900 } });
  page = await context.newPage();
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.location().url.endsWith('/favicon.ico')) errors.push(`${m.text()} ${m.location().url}`);
  });
  await page.goto(session.url);
  await page.locator('#run-list-empty').waitFor({ timeout: 30_000 });
  mkdirSync('test-results', { recursive: true });
}, 60_000);
afterAll(async () => session?.close());

describe('the Run section', () => {
  it('estimates the memory of the form’s settings, and disables Start with the reason when it does not fit', async () => {
    const memory = page.locator('#run-memory .memory-estimate');
    await expect.poll(() => memory.getAttribute('data-fits'), { timeout: 30_000 }).toBe('true');
    await expect.poll(startDisabled, { timeout: 60_000 }).toBe(false);
    expect(await blocked()).toBe('');

    await set('batch', '100000');
    await expect.poll(() => memory.getAttribute('data-fits'), { timeout: 30_000 }).toBe('false');
    expect(await memory.textContent()).toContain('Does not fit on this GPU');
    expect(await memory.locator('.memory-problems li').count()).toBeGreaterThan(0);
    expect(await startDisabled()).toBe(true);
    expect(await blocked()).toMatch(/^This run does not fit on this GPU: \S/);
    await page.screenshot({ path: shot('run-memory-too-big'), fullPage: true });

    await set('batch', '4');
    await expect.poll(() => memory.getAttribute('data-fits'), { timeout: 30_000 }).toBe('true');
    await expect.poll(startDisabled, { timeout: 60_000 }).toBe(false);
    // Eval generates 16 sequences at once when they fit (the default model: they do).
    expect(await memory.textContent()).toMatch(/generation \(16 sequences at once\) [\d.]+ [kM]B/);
  });

  it('shows an invalid field’s message at the field and keeps Start disabled until it is fixed', async () => {
    await set('steps', '0');
    expect(await page.locator('#run-steps-error').textContent()).toBe('Steps must be a whole number from 1 to 1,000,000.');
    expect(await page.locator('#run-steps').getAttribute('aria-invalid')).toBe('true');
    expect(await startDisabled()).toBe(true);
    expect(await blocked()).toBe('Fix Steps: see the message at the field.');

    await set('seq', '4096');
    expect(await page.locator('#run-seq-error').textContent()).toBe('Sequence length must be a whole number from 8 to 640 (the model’s context).');
    expect(await blocked()).toBe('Fix Steps, Sequence length: see the message at each field.');
    await page.screenshot({ path: shot('run-invalid'), fullPage: true });

    await set('steps', String(STEPS));
    await set('seq', '256');
    expect(await page.locator('#run-steps-error').textContent()).toBe('');
    await expect.poll(startDisabled, { timeout: 60_000 }).toBe(false);
  });

  it('starts a short SFT of the default model on synthetic problems, pauses, resumes and completes it', async () => {
    await page.fill('#run-name', 'e2e plan SFT');
    await set('synthetic', '40');
    await set('batch', '2');
    await set('evalCount', '2');
    await set('maxNewTokens', '24');
    await set('checkpointEvery', '2');
    await expect.poll(startDisabled, { timeout: 60_000 }).toBe(false);
    await page.click('#run-start');

    await expect.poll(runStatus, { timeout: 120_000 }).toMatch(/^Run “e2e plan SFT”: running/);
    expect(await row().locator('th.name button').textContent()).toBe('e2e plan SFT');
    expect(await row().getAttribute('aria-current')).toBe('true');
    expect(await startDisabled()).toBe(true);
    expect(await blocked()).toContain('is training: pause or stop it before starting another');
    await expect.poll(rowStep, { timeout: 120_000 }).toBeGreaterThanOrEqual(1);
    const first = await rowStep();
    await expect.poll(rowStep, { timeout: 120_000 }).toBeGreaterThan(first);
    await page.screenshot({ path: shot('run-running'), fullPage: true });

    expect(await page.locator('#run-resume').isDisabled()).toBe(true);
    await page.click('#run-pause');
    await expect.poll(rowStatus, { timeout: 120_000 }).toBe('paused');
    expect(await runStatus()).toMatch(/^Run “e2e plan SFT”: paused/);
    const pausedAt = await rowStep();
    expect(pausedAt).toBeGreaterThan(first);
    expect(pausedAt).toBeLessThan(STEPS);
    expect(await page.locator('#run-pause').isDisabled()).toBe(true);
    await expect.poll(() => page.locator('#run-resume').isDisabled()).toBe(false);
    await page.screenshot({ path: shot('run-paused'), fullPage: true });

    await page.click('#run-resume');
    await expect.poll(runStatus, { timeout: 120_000 }).toMatch(/^Run “e2e plan SFT”: running/);
    await expect.poll(rowStatus, { timeout: 240_000 }).toBe('completed');
    expect(await runStatus()).toMatch(/^Run “e2e plan SFT”: completed/);
    expect(await rowStep()).toBe(STEPS);
    expect(await row().locator('[data-stat="step"]').textContent()).toBe(`${STEPS} / ${STEPS}`);
    expect(await startDisabled()).toBe(false);
    for (const b of ['#run-pause', '#run-resume', '#run-stop']) expect(await page.locator(b).isDisabled(), b).toBe(true);
    await page.screenshot({ path: shot('run-completed'), fullPage: true });

    // GRPO after SFT: the completed run is offered as the starting point.
    await page.selectOption('#run-mode', 'grpo');
    expect(await page.locator('#run-group-grpo').isVisible()).toBe(true);
    expect(await page.locator('#run-from option').allTextContents()).toContain(`Run “e2e plan SFT” (SFT, ${STEPS} steps)`);
    expect(await page.locator('#run-lr').inputValue()).toBe('0.00005');
  }, 600_000);

  it('shows the chosen run again after a reload, and deletes a run only after confirmation', async () => {
    await page.reload();
    await expect.poll(() => row().getAttribute('aria-current'), { timeout: 30_000 }).toBe('true');
    expect(await rowStatus()).toBe('completed');

    page.once('dialog', (d) => void d.dismiss());
    await page.getByRole('button', { name: 'Delete run e2e plan SFT' }).click();
    expect(await page.locator('table.runs tbody tr').count()).toBe(1);
    let asked = '';
    page.once('dialog', (d) => {
      asked = d.message();
      void d.accept();
    });
    await page.getByRole('button', { name: 'Delete run e2e plan SFT' }).click();
    await page.locator('#run-list-empty').waitFor();
    expect(asked).toContain(`Delete the run “e2e plan SFT” (SFT, ${STEPS} steps)`);
    expect(errors).toEqual([]);
  });

  it('says WebGPU is missing, and what to do, in a browser without it; Start stays disabled with that reason', async () => {
    const executablePath = findBrowser()!;
    const args = browserArgs().filter((a) => !/webgpu|swiftshader/.test(a)).concat('--disable-features=WebGPU');
    const plain = await chromium.launch({ executablePath, args, headless: true });
    try {
      const p = await plain.newPage();
      await p.goto(session.url);
      const note = p.locator('#model-gpu');
      await note.waitFor({ state: 'visible', timeout: 30_000 });
      expect(await note.textContent()).toMatch(/^Training needs WebGPU, which this browser does not offer here\. \S/);
      expect(await p.locator('#run-memory').textContent()).toBe('No memory estimate without a WebGPU adapter.');
      await expect.poll(() => p.locator('#run-blocked').textContent(), { timeout: 30_000 }).toMatch(/^WebGPU is not available in this browser: /);
      expect(await p.locator('#run-start').isDisabled()).toBe(true);
      await p.screenshot({ path: shot('run-no-webgpu'), fullPage: true });
    } finally {
      await plain.close();
    }
  });
});
