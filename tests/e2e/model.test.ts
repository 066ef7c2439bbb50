// End-to-end: the Model section of the real page in headless Chromium. The default model is described
// from its served files (the test reads the same files to know what to expect); a tiny Hugging Face
// folder written by the test comes in through the keyboard-opened folder picker, a tiny llama2.c
// checkpoint through a drop; a broken file is refused with its reason and nothing is stored; a hub
// download that cannot succeed shows the worker's error. The tests share one page and run in order.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright';
import { startBrowserSession } from '../../scripts/browser-session.mjs';
import { byteLevelTokenizerConfig, byteLevelTokenizerJson } from '../../src/data/tokenizer/byte-level';
import { parseHfConfig } from '../../src/model/config';
import { exportHfModel } from '../../src/model/hf-weights';
import { initParams } from '../../src/model/init';
import { paramLayout } from '../../src/model/param-layout';

const DEFAULT_DIR = 'public/models/plantune-tiny';
const shot = (name: string): string => `test-results/${name}.png`;

let session: Awaited<ReturnType<typeof startBrowserSession>>;
let page: Page;
let scratch: string;
const errors: string[] = [];

/** Parameters in a safetensors file: the sum over its header's tensor shapes. */
function safetensorsParams(bytes: Uint8Array): number {
  const headerLength = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength))) as Record<string, { shape?: number[] }>;
  return Object.entries(header)
    .filter(([name]) => name !== '__metadata__')
    .reduce((n, [, t]) => n + (t.shape ?? []).reduce((a, b) => a * b, 1), 0);
}

/** "1.25 M", as the page writes a parameter count of millions. */
const millions = (n: number): string => `${(n / 1e6).toFixed(2)} M`;

/** A 2-layer Llama over bytes with random weights, written as a Hugging Face folder. */
async function writeTinyHfFolder(dir: string): Promise<number> {
  const config = {
    architectures: ['LlamaForCausalLM'], model_type: 'llama', vocab_size: 260, hidden_size: 32, intermediate_size: 64,
    num_hidden_layers: 2, num_attention_heads: 2, num_key_value_heads: 1, head_dim: 16, max_position_embeddings: 128,
    rms_norm_eps: 1e-5, rope_theta: 10000, tie_word_embeddings: false, bos_token_id: 1, eos_token_id: 2,
  };
  const layout = paramLayout(parseHfConfig(config));
  const hf = exportHfModel(layout, initParams(layout, 7));
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.json'), hf.configJson);
  const weights = new Uint8Array(await hf.safetensors.arrayBuffer());
  writeFileSync(join(dir, 'model.safetensors'), weights);
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(byteLevelTokenizerJson()));
  writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify(byteLevelTokenizerConfig(128)));
  return safetensorsParams(weights);
}

/** A llama2.c checkpoint with the legacy 7-int header and a shared classifier; returns its bytes and parameter count. */
function tinyLlama2c(): { bytes: number[]; params: number } {
  const [dim, hidden, layers, heads, kvHeads, vocab, seqLen] = [16, 32, 1, 2, 2, 260, 32];
  const kv = (dim / heads) * kvHeads;
  const weights = [vocab * dim, layers * dim, layers * dim * dim, layers * kv * dim, layers * kv * dim, layers * dim * dim, layers * dim, layers * hidden * dim, layers * dim * hidden, layers * hidden * dim, dim];
  const freqs = seqLen * (dim / heads); // freq_cis_real + freq_cis_imag, skipped by readers
  const count = weights.reduce((a, b) => a + b, 0);
  const buf = new DataView(new ArrayBuffer(28 + 4 * (count + freqs)));
  [dim, hidden, layers, heads, kvHeads, vocab, seqLen].forEach((x, i) => buf.setInt32(4 * i, x, true));
  let s = 12345;
  for (let i = 0; i < count + freqs; i++) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    buf.setFloat32(28 + 4 * i, (s / 2 ** 31 - 0.5) * 0.1, true);
  }
  return { bytes: [...new Uint8Array(buf.buffer)], params: count };
}

const storedNames = () => page.locator('table.models tbody th.name label').allTextContents();
const status = () => page.locator('#model-status').textContent();

async function importAndWait(): Promise<string> {
  await page.click('#model-import');
  await expect.poll(status, { timeout: 60_000 }).toMatch(/Imported|failed/);
  return (await status()) ?? '';
}

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'plantune-model-e2e-'));
  session = await startBrowserSession();
  const context = await session.browser.newContext({ viewport: { width: 1100, height: 900 } });
  page = await context.newPage();
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.location().url.endsWith('/favicon.ico')) errors.push(`${m.text()} ${m.location().url}`);
  });
  page.on('filechooser', () => {}); // see tests/e2e/data.test.ts
  await page.goto(session.url);
  mkdirSync('test-results', { recursive: true });
}, 60_000);
afterAll(async () => {
  await session?.close();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe('the Model section', () => {
  it('preselects the default model and shows its architecture, parameter count and shape, read from its files', async () => {
    const config = JSON.parse(readFileSync(`${DEFAULT_DIR}/config.json`, 'utf8')) as Record<string, unknown>;
    const params = safetensorsParams(readFileSync(`${DEFAULT_DIR}/model.safetensors`));
    const card = page.locator('#model-info .model-card[data-model="default"]');
    await card.waitFor({ timeout: 30_000 });
    const stat = (key: string) => card.locator(`[data-stat="${key}"]`);
    expect(await card.locator('.model-name').textContent()).toContain('plantune-tiny');
    expect(await stat('architecture').getAttribute('data-value')).toBe((config.architectures as string[])[0]);
    expect(Number(await stat('params').getAttribute('data-value'))).toBe(params);
    expect(await stat('params').locator('dd').textContent()).toBe(millions(params));
    expect(millions(params)).toBe('1.25 M'); // the README's figure
    for (const [key, field] of [['layers', 'num_hidden_layers'], ['hidden', 'hidden_size'], ['heads', 'num_attention_heads'], ['vocab', 'vocab_size'], ['context', 'max_position_embeddings']]) {
      expect(Number(await stat(key).getAttribute('data-value')), key).toBe(config[field]);
    }
    expect(await card.locator('.model-files li[data-file="model.safetensors"]').count()).toBe(1);
    expect(await page.locator('#model-choice-default').isChecked()).toBe(true);
    expect(await page.locator('#model-gpu').isHidden()).toBe(true);
    await page.screenshot({ path: shot('model-default'), fullPage: true });
  });

  it('imports a Hugging Face folder chosen with the keyboard-opened folder picker, lists it and selects it', async () => {
    const dir = join(scratch, 'tiny-llama');
    const params = await writeTinyHfFolder(dir);
    await page.focus('#model-pick-folder');
    const [chooser] = await Promise.all([page.waitForEvent('filechooser'), page.keyboard.press('Enter')]);
    await chooser.setFiles(dir);
    expect(await page.locator('#model-selection').textContent()).toMatch(/^4 files chosen .*config\.json/);
    await page.fill('#model-name', 'tiny llama');
    await page.evaluate(() => {
      const bar = document.querySelector('#model-import-progress')!;
      const seen: string[] = [];
      Object.assign(window, { importSeen: seen });
      new MutationObserver(() => seen.push(bar.getAttribute('value') ?? '')).observe(bar, { attributes: true, attributeFilter: ['value'] });
    });
    expect(await importAndWait()).toContain('Imported “tiny llama” (LlamaForCausalLM, ');
    // The weights are checked tensor by tensor with progress, then stored.
    const seen = await page.evaluate(() => (window as unknown as { importSeen: string[] }).importSeen);
    expect(new Set(seen.map(Number).filter((v) => v > 0)).size).toBeGreaterThanOrEqual(3);

    expect(await storedNames()).toEqual(['plantune-tiny', 'tiny llama']);
    const row = page.locator('table.models tbody tr').nth(1);
    expect(Number(await row.locator('[data-stat="params"]').getAttribute('data-value'))).toBe(params);
    expect(await row.locator('input[type="radio"]').isChecked()).toBe(true);
    const card = page.locator('#model-info .model-card');
    await expect.poll(() => card.locator('[data-stat="layers"]').getAttribute('data-value')).toBe('2');
    expect(Number(await card.locator('[data-stat="params"]').getAttribute('data-value'))).toBe(params);
    await page.screenshot({ path: shot('model-imported-hf'), fullPage: true });
  });

  it('imports a llama2.c checkpoint dropped on the drop zone', async () => {
    const bin = tinyLlama2c();
    const tokenizer = JSON.stringify(byteLevelTokenizerJson());
    const transfer = await page.evaluateHandle(({ bytes, tokenizer }) => {
      const dt = new DataTransfer();
      dt.items.add(new File([new Uint8Array(bytes)], 'stories-tiny.bin'));
      dt.items.add(new File([tokenizer], 'tokenizer.json'));
      return dt;
    }, { bytes: bin.bytes, tokenizer });
    await page.dispatchEvent('#model-drop', 'dragover', { dataTransfer: transfer });
    await page.dispatchEvent('#model-drop', 'drop', { dataTransfer: transfer });
    await expect.poll(() => page.locator('#model-selection').textContent()).toMatch(/^2 files chosen .*stories-tiny\.bin, tokenizer\.json$/);
    expect(await importAndWait()).toContain('(LlamaForCausalLM, ');
    const names = await storedNames();
    expect(names).toHaveLength(3);
    const row = page.locator('table.models tbody tr').filter({ has: page.locator('input:checked') });
    expect(Number(await row.locator('[data-stat="params"]').getAttribute('data-value'))).toBe(bin.params);
  });

  it('refuses a broken weights file with its reason, and stores nothing', async () => {
    const dir = join(scratch, 'broken');
    await writeTinyHfFolder(dir);
    const weights = readFileSync(join(dir, 'model.safetensors'));
    writeFileSync(join(dir, 'model.safetensors'), weights.subarray(0, Math.floor(weights.length / 2))); // cut mid-tensor
    const before = await storedNames();
    await page.setInputFiles('#model-folder', dir);
    const message = await importAndWait();
    expect(message).toMatch(/^Import failed: .*model\.safetensors/);
    expect(await page.locator('#model-status.error').count()).toBe(1);
    await page.screenshot({ path: shot('model-import-error'), fullPage: true });
    await page.reload();
    await page.locator('table.models tbody tr').first().waitFor();
    await expect.poll(storedNames, { timeout: 10_000 }).toEqual(before);
  });

  it('says plainly why a hub download did not work, and checks the repo id first', async () => {
    await page.fill('#model-hub-id', 'not a repo id');
    await page.click('#model-hub-download');
    expect(await status()).toContain('“not a repo id” is not a Hugging Face repo id');
    expect(await page.locator('#model-hub-id').getAttribute('aria-invalid')).toBe('true');

    // Offline (as here) the worker cannot reach the hub; online this repo does not exist. Either way: its error, as it is.
    await page.fill('#model-hub-id', 'plantune-e2e/no-such-model');
    await page.click('#model-hub-download');
    await expect.poll(status, { timeout: 60_000 }).toMatch(/^Download of plantune-e2e\/no-such-model failed: \S/);
    expect(await page.locator('#model-hub-download').isDisabled()).toBe(false);
  });

  it('deletes a stored model only after confirmation, and falls back to the default model', async () => {
    const before = await storedNames();
    const chosen = await page.locator('table.models tbody tr').filter({ has: page.locator('input:checked') }).locator('th.name label').textContent();
    expect(chosen).not.toBe('plantune-tiny');
    let asked = '';
    page.once('dialog', (d) => {
      asked = d.message();
      void d.accept();
    });
    await page.getByRole('button', { name: `Delete model ${chosen}` }).click();
    await expect.poll(storedNames).toEqual(before.filter((n) => n !== chosen));
    expect(asked).toContain(`Delete the model “${chosen}”`);
    await page.locator('#model-info .model-card[data-model="default"]').waitFor();
    expect(await page.locator('#model-choice-default').isChecked()).toBe(true);
    expect(errors.filter((e) => !e.includes('no-such-model'))).toEqual([]);
  });
});
