// End-to-end: a whole training flow on the real page in headless Chromium (SwiftShader here), as a user
// does it: set up a short plan SFT of the default model on synthetic problems in the Run form, start
// it, watch the loss chart, the ETA and the first eval's accuracy; reload the page mid-run, resume the
// run from the runs list and let it finish; read the eval before/after table; export the model and
// check on the Node side that model.safetensors parses with the tensor names and shapes the default
// model's config.json implies; export the metrics as CSV and check it. The tests share one page and run
// in order. Screenshots of each state go to test-results/train-*.png.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, readFileSync } from 'node:fs';
import type { Download, Page } from 'playwright';
import { startBrowserSession } from '../../scripts/browser-session.mjs';
import { readSafetensors } from '../../src/io/safetensors';

const RUN = 'e2e plan SFT';
const STEPS = 8;
const CHECKPOINT_EVERY = 2;
/**
 * Eval problems asked for. Only those whose prompt and gold completion fit the sequence length are
 * evaluated (with byte tokens, 2 or 3 of the first 8 synthetic eval problems fit 256 tokens): the page
 * reports how many were scored.
 */
const EVAL_COUNT = 8;
const MODEL_DIR = 'public/models/plantune-tiny';
const shot = (name: string): string => `test-results/train-${name}.png`;
const EXPORT_DIR = 'test-results/train-export';

let session: Awaited<ReturnType<typeof startBrowserSession>>;
let page: Page;
const errors: string[] = [];

beforeAll(async () => {
  session = await startBrowserSession();
  const context = await session.browser.newContext({ viewport: { width: 1100, height: 900 }, acceptDownloads: true });
  page = await context.newPage();
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.location().url.endsWith('/favicon.ico')) errors.push(`${m.text()} ${m.location().url}`);
  });
  mkdirSync(EXPORT_DIR, { recursive: true });
  await page.goto(session.url);
}, 60_000);
afterAll(async () => session?.close());

/** How far the flow got: a test that needs an earlier stage skips when that stage failed (its failure is reported). */
let reached: 'none' | 'started' | 'completed' = 'none';
/** Eval problems the run scored (read from the page). */
let scored = 0;

/** Waits until a control is enabled; else fails with the reason the page gives. */
async function waitEnabled(selector: string, reasonSelector: string, timeout: number): Promise<void> {
  const until = Date.now() + timeout;
  while (!(await page.locator(selector).isEnabled())) {
    if (Date.now() > until) throw new Error(`${selector} stayed disabled for ${timeout / 1000} s; the page says: ${await text(reasonSelector)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Waits until `value()` passes `ok`, failing at once (with the page's reason) if the run fails. */
async function whileTraining<T>(value: () => Promise<T>, ok: (v: T) => boolean, timeout: number, what: string): Promise<T> {
  const until = Date.now() + timeout;
  for (;;) {
    const v = await value();
    if (ok(v)) return v;
    if ((await runRow().count()) > 0 && (await runStatus()) === 'failed') throw new Error(`the run failed while waiting for ${what}: ${await text('#run-status')}`);
    if (Date.now() > until) throw new Error(`no ${what} after ${timeout / 1000} s (last: ${String(v)}); the page says: ${await text('#watch-status')} ${await text('#run-status')}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Points drawn in a Watch chart. */
const chartPoints = async (chart: string): Promise<number> => Number(await page.locator(`#watch [data-chart="${chart}"]`).getAttribute('data-points'));
const text = async (selector: string): Promise<string> => (await page.locator(selector).textContent()) ?? '';
const runRow = () => page.locator('#run-list tr[data-run]', { hasText: RUN });
const runStatus = () => runRow().locator('[data-stat="status"]').getAttribute('data-value');

/** Clicks an export button and waits for every file the panel lists; a download the browser did not start is fetched from its link. */
async function exportFiles(kind: string): Promise<Map<string, string>> {
  const seen = new Map<string, Download>();
  const onDownload = (d: Download) => void seen.set(d.suggestedFilename(), d);
  page.on('download', onDownload);
  try {
    await page.locator(`#export-${kind}`).click();
    await expect.poll(() => text('#export-status'), { timeout: 120_000 }).toMatch(/^(Saved|Export failed)/);
    expect(await text('#export-status')).toMatch(/^Saved/);
    const names = await page.locator('#export-files a').evaluateAll((as) => as.map((a) => a.getAttribute('download') ?? ''));
    // Download events come in asynchronously: give the ones the click started a moment.
    for (let i = 0; i < 20 && !names.every((n) => seen.has(n)); i++) await new Promise((r) => setTimeout(r, 100));
    const started = new Set(seen.keys());
    for (const name of names) {
      if (seen.has(name)) continue;
      await Promise.all([page.waitForEvent('download', { predicate: (d) => d.suggestedFilename() === name }), page.locator(`#export-files a[data-file="${name}"]`).click()]);
    }
    console.log(`export ${kind}: ${names.join(', ')} (${names.filter((n) => started.has(n)).length} of ${names.length} downloads started by the button, any others from their links)`);
    const paths = new Map<string, string>();
    for (const name of names) {
      const path = `${EXPORT_DIR}/${name}`;
      await seen.get(name)!.saveAs(path);
      paths.set(name, path);
    }
    return paths;
  } finally {
    page.off('download', onDownload);
  }
}

/** The tensors a Llama checkpoint of this config.json holds, with their shapes (transformers' names). */
function llamaTensors(c: Record<string, number | boolean>): Map<string, number[]> {
  const C = c.hidden_size as number;
  const V = c.vocab_size as number;
  const I = c.intermediate_size as number;
  const NH = c.num_attention_heads as number;
  const KV = c.num_key_value_heads as number;
  const HS = (c.head_dim as number) ?? C / NH;
  const t = new Map<string, number[]>([['model.embed_tokens.weight', [V, C]], ['model.norm.weight', [C]]]);
  if (!c.tie_word_embeddings) t.set('lm_head.weight', [V, C]);
  for (let l = 0; l < (c.num_hidden_layers as number); l++) {
    const p = `model.layers.${l}`;
    t.set(`${p}.input_layernorm.weight`, [C]);
    t.set(`${p}.self_attn.q_proj.weight`, [NH * HS, C]);
    t.set(`${p}.self_attn.k_proj.weight`, [KV * HS, C]);
    t.set(`${p}.self_attn.v_proj.weight`, [KV * HS, C]);
    t.set(`${p}.self_attn.o_proj.weight`, [C, NH * HS]);
    t.set(`${p}.post_attention_layernorm.weight`, [C]);
    t.set(`${p}.mlp.gate_proj.weight`, [I, C]);
    t.set(`${p}.mlp.up_proj.weight`, [I, C]);
    t.set(`${p}.mlp.down_proj.weight`, [C, I]);
  }
  return t;
}

describe('a training flow on the page', () => {
  it('starts a short plan SFT from the Run form and shows its loss chart, ETA and first eval accuracy', async () => {
    const start = page.locator('#run-start');
    await waitEnabled('#run-start', '#run-blocked', 300_000); // the model is read and checked first (slow on a busy machine)
    await page.fill('#run-name', RUN);
    for (const [field, value] of [['steps', STEPS], ['batch', 2], ['seq', 256], ['evalCount', EVAL_COUNT], ['maxNewTokens', 48], ['checkpointEvery', CHECKPOINT_EVERY], ['synthetic', 200]] as const) {
      await page.fill(`#run-${field}`, String(value));
    }
    expect(await page.locator('#run-data').inputValue()).toBe('synthetic');
    await waitEnabled('#run-start', '#run-blocked', 30_000);
    await page.screenshot({ path: shot('form'), fullPage: true });
    await start.click();

    await expect.poll(() => page.locator('#watch').getAttribute('data-run'), { timeout: 30_000 }).toMatch(/^run-/);
    reached = 'started';
    expect(await text('#watch-run')).toMatch(new RegExp(`^Run “${RUN}”: SFT · ${STEPS} steps · batch 2 · lr \\d\\.\\d\\de-\\d · full fine-tuning$`));
    // The eval before training comes first: an accuracy figure on a held-out problem count.
    await whileTraining(() => chartPoints('accuracy'), (n) => n >= 1, 300_000, 'eval accuracy point');
    expect(await text('#watch [data-chart="accuracy"] .latest')).toMatch(/^\d+\.\d% at step 0$/);
    scored = Number(/, (\d+) held-out problems/.exec(await text('.eval-compare caption'))?.[1]);
    expect(scored).toBeGreaterThanOrEqual(1);
    expect(scored).toBeLessThanOrEqual(EVAL_COUNT);
    expect(await page.locator('#watch [data-row="accuracy"] td').first().textContent()).toMatch(new RegExp(`^\\d+\\.\\d% \\(\\d/${scored}\\)$`));
    await whileTraining(() => chartPoints('loss'), (n) => n >= 2, 300_000, 'second loss point');
    expect(await text('#watch-progress-text')).toMatch(/^Step \d of 8 · ETA (\d+ s|\d+ min \d\d s) · [\d.,]+ tokens\/s$/);
    expect(await page.locator('#watch [data-chart="loss"] .plot').getAttribute('aria-label')).toMatch(/^Loss: \d points from step 1 to step \d; latest /);
    await page.locator('#watch').screenshot({ path: shot('watch-live') });
  }, 600_000);

  it('resumes the run from the runs list after a reload mid-run, and finishes it with the eval before/after table', async (ctx) => {
    if (reached !== 'started') ctx.skip();
    // Past the checkpoint at step 2, reload: the worker dies with the page.
    await whileTraining(async () => Number(await page.locator('#watch-progress').getAttribute('data-step')), (step) => step > CHECKPOINT_EVERY, 300_000, `step past ${CHECKPOINT_EVERY}`);
    const before = await chartPoints('loss');
    expect(before).toBeLessThan(STEPS);
    await page.reload();
    await expect.poll(runStatus, { timeout: 60_000 }).toBe('paused');
    expect(await text('#run-status')).toContain(`Run “${RUN}” was interrupted`);
    await page.getByRole('button', { name: `Show run ${RUN}` }).click();
    // The stored history is drawn again.
    await expect.poll(() => chartPoints('loss'), { timeout: 30_000 }).toBeGreaterThanOrEqual(CHECKPOINT_EVERY);
    expect(await chartPoints('accuracy')).toBe(1);
    expect(await text('#watch-status')).toMatch(/^Paused at the checkpoint of step \d: resume it in the Run section\.$/);
    await page.screenshot({ path: shot('reloaded'), fullPage: true });

    await waitEnabled('#run-resume', '#run-status', 30_000);
    await page.locator('#run-resume').click();
    await whileTraining(runStatus, (status) => status === 'completed', 600_000, 'completed run');
    await expect.poll(() => text('#watch-status'), { timeout: 30_000 }).toMatch(/^Completed/);

    // Every step once (the steps trained again after the checkpoint replace the first tries), two evals.
    // Redraws are throttled: the last eval's point may be drawn a moment after the status changes.
    await expect.poll(() => chartPoints('loss'), { timeout: 30_000 }).toBe(STEPS);
    await expect.poll(() => chartPoints('accuracy'), { timeout: 30_000 }).toBe(2);
    expect(await text('#watch-progress-text')).toMatch(/^Step 8 of 8/);
    expect(await text('.eval-compare caption')).toBe(`Before (step 0) and after (step ${STEPS}), ${scored} held-out problems`);
    const cells = await page.locator('[data-row="accuracy"] td').allTextContents();
    expect(cells).toHaveLength(3);
    expect(cells[1]).toMatch(new RegExp(`^\\d+\\.\\d% \\(\\d/${scored}\\)$`));
    expect(cells[2]).toMatch(/^[+−±]\d+\.\d pts$/);
    // The last eval's completions, judged against the gold answers.
    const samples = page.locator('#watch [data-samples="eval"] .sample');
    expect(await samples.count()).toBe(scored);
    for (const v of await samples.evaluateAll((els) => els.map((e) => e.getAttribute('data-correct')))) expect(['true', 'false']).toContain(v);
    expect(await samples.first().locator('.gold').textContent()).toMatch(/\S/);
    await page.screenshot({ path: shot('completed'), fullPage: true });
    await page.locator('#watch').screenshot({ path: shot('completed-watch') });
    console.log(`eval on ${scored} problems: before ${cells[0]}, after ${cells[1]} (${cells[2]}); loss ${await text('#watch [data-chart="loss"] .latest')}`);
    reached = 'completed';
  }, 900_000);

  it('exports the model as safetensors with the default model’s tensor names and shapes, and trained weights', async (ctx) => {
    if (reached !== 'completed') ctx.skip();
    expect(await page.locator('#export-peft').isDisabled()).toBe(true);
    expect(await text('#export-peft-reason')).toContain('there is no LoRA adapter');
    const files = await exportFiles('safetensors');
    expect([...files.keys()]).toEqual(expect.arrayContaining(['model.safetensors', 'config.json']));
    const config = JSON.parse(readFileSync(`${MODEL_DIR}/config.json`, 'utf8')) as Record<string, number | boolean>;
    const exportedConfig = JSON.parse(readFileSync(files.get('config.json')!, 'utf8')) as Record<string, unknown>;
    for (const key of ['model_type', 'hidden_size', 'num_hidden_layers', 'num_attention_heads', 'num_key_value_heads', 'intermediate_size', 'vocab_size']) {
      expect(exportedConfig[key], key).toEqual(config[key]);
    }

    const exported = await readSafetensors(new Blob([readFileSync(files.get('model.safetensors')!)]), 'model.safetensors');
    const expected = llamaTensors(config);
    expect([...exported.names].sort()).toEqual([...expected.keys()].sort());
    for (const [name, shape] of expected) expect([...exported.get(name).shape], name).toEqual(shape);

    // Trained: finite, and not the weights it started from.
    const original = await readSafetensors(new Blob([readFileSync(`${MODEL_DIR}/model.safetensors`)]), 'model.safetensors');
    let changed = 0;
    for (const name of expected.keys()) {
      const [a, b] = [await exported.get(name).float32(), await original.get(name).float32()];
      expect(a.every(Number.isFinite), name).toBe(true);
      if (a.some((v, i) => v !== b[i])) changed++;
    }
    expect(changed).toBeGreaterThan(expected.size / 2);
    await page.locator('#export').screenshot({ path: shot('exported-model') });
  }, 300_000);

  it('exports the metrics as CSV: a column per metric, a row per logged step', async (ctx) => {
    if (reached !== 'completed') ctx.skip();
    const files = await exportFiles('metrics-csv');
    expect(files.size).toBe(1);
    const [name, path] = [...files][0];
    expect(name).toMatch(/\.csv$/);
    const lines = readFileSync(path, 'utf8').trimEnd().split('\r\n');
    const header = lines[0].split(',');
    expect(header[0]).toBe('step');
    expect(header).toEqual(expect.arrayContaining(['loss', 'lr', 'gradNorm', 'tokensPerSecond', 'accuracy']));
    // The eval before training (step 0) and one row per step, each once although steps after the checkpoint were trained twice.
    expect(lines.slice(1).map((l) => Number(l.split(',')[0]))).toEqual(Array.from({ length: STEPS + 1 }, (_, i) => i));
    const loss = header.indexOf('loss');
    for (const line of lines.slice(2)) expect(Number(line.split(',')[loss])).toBeGreaterThan(0);
    await page.screenshot({ path: shot('exported-metrics'), fullPage: true });
    expect(errors).toEqual([]);
  }, 120_000);
});
