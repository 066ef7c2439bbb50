// End-to-end: the Data section of the real page in headless Chromium. Files go in through the file
// input, a drop on the drop zone and the keyboard-opened picker; the worker streams, validates, splits
// and stores them in IndexedDB; the page shows the report, rejections, a preview and the stored list.
// The tests share one page and run in order (each builds on the datasets stored before it).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright';
import { startBrowserSession } from '../../scripts/browser-session.mjs';

const dataFile = (rel: string): string => fileURLToPath(new URL(`../../../shared/data/${rel}`, import.meta.url));
const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const shot = (name: string): string => `test-results/${name}.png`;

let session: Awaited<ReturnType<typeof startBrowserSession>>;
let page: Page;
const errors: string[] = [];

beforeAll(async () => {
  session = await startBrowserSession();
  const context = await session.browser.newContext({ viewport: { width: 1100, height: 900 }, acceptDownloads: true });
  page = await context.newPage();
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    // The page has no favicon; the browser's request for one is not the page's error.
    if (m.type() === 'error' && !m.location().url.endsWith('/favicon.ico')) errors.push(`${m.text()} ${m.location().url}`);
  });
  // Playwright intercepts file pickers only while a listener exists, and turns that on asynchronously:
  // with only `waitForEvent('filechooser')` a picker opened right away is sometimes missed.
  page.on('filechooser', () => {});
  await page.goto(session.url);
  await page.locator('#data-list-empty').waitFor();
  mkdirSync('test-results', { recursive: true });
}, 60_000);
afterAll(async () => session?.close());

/** A number of a file's report, read from its data-value (the text is formatted: "1,319"). */
const fileStat = (file: string, key: string) => page.locator(`.file-report[data-file="${file}"] [data-stat="${key}"]`).getAttribute('data-value');

async function importAndWait(): Promise<string> {
  await page.click('#data-import');
  const status = page.locator('#data-status');
  await expect.poll(() => status.textContent(), { timeout: 30_000 }).toMatch(/Imported|failed|Nothing/);
  return (await status.textContent()) ?? '';
}

describe('the Data section', () => {
  it('imports GSM8K socratic chosen with the file input: report, split, preview, stored list', async () => {
    await page.setInputFiles('#data-files', dataFile('gsm8k/test_socratic.jsonl'));
    expect(await page.locator('#data-selection').textContent()).toContain('test_socratic.jsonl');
    expect(await importAndWait()).toContain('Imported “test_socratic”: 1,319 trajectories kept, 0 rejected');

    const f = 'test_socratic.jsonl';
    expect(await fileStat(f, 'format')).toBe('gsm8k-socratic');
    expect([await fileStat(f, 'rows'), await fileStat(f, 'kept'), await fileStat(f, 'rejected')]).toEqual(['1319', '1319', '0']);
    expect(await page.locator('.import-report .summary').textContent()).toMatch(/1,319 trajectories about 1,319 problems: 1,187 train, 132 eval/);
    expect(await page.locator('[data-contamination="clean"]').count()).toBe(1);
    expect(await page.locator('#data-download-rejections').count()).toBe(0);

    const first = page.locator('#data-preview .trajectory').first();
    expect(await page.locator('#data-preview .trajectory').count()).toBe(3);
    expect(await first.locator('.question').textContent()).toContain('Janet’s ducks lay 16 eggs per day');
    expect(await first.locator('.plan li').count()).toBe(2);
    expect(await first.locator('.plan li .subq').first().textContent()).toBe('How many eggs does Janet sell?');
    expect(await first.locator('.plan li .suba').first().textContent()).toContain('16 - 3 - 4 = <<16-3-4=9>>9 duck eggs');
    expect(await first.locator('.final strong').textContent()).toBe('18');

    expect(await page.locator('table.datasets tbody tr').count()).toBe(1);
    expect(await page.locator('table.datasets [data-stat="trajectories"]').getAttribute('data-value')).toBe('1319');
    await page.screenshot({ path: shot('data-imported'), fullPage: true });
  });

  it('lists the rejections of a broken file dropped on the drop zone, keeps its good rows, and downloads them as CSV', async () => {
    const files = ['broken.jsonl', 'notes.txt'].map((name) => ({ name, text: readFileSync(fixture(name), 'utf8') }));
    const transfer = await page.evaluateHandle((list) => {
      const dt = new DataTransfer();
      for (const f of list) dt.items.add(new File([f.text], f.name));
      return dt;
    }, files);
    await page.dispatchEvent('#data-drop', 'dragover', { dataTransfer: transfer });
    await page.dispatchEvent('#data-drop', 'drop', { dataTransfer: transfer });
    expect(await page.locator('#data-selection').textContent()).toMatch(/2 files chosen .*broken\.jsonl, notes\.txt/);
    await page.fill('#data-name', 'broken rows');
    expect(await importAndWait()).toContain('Imported “broken rows”: 4 trajectories kept, 7 rejected');

    const b = 'broken.jsonl';
    expect(await fileStat(b, 'format')).toBe('gsm8k-socratic');
    expect([await fileStat(b, 'rows'), await fileStat(b, 'kept'), await fileStat(b, 'rejected'), await fileStat(b, 'duplicates')]).toEqual(['10', '4', '6', '1']);
    const rows = page.locator(`.file-report[data-file="${b}"] table.rejections tbody tr`);
    const listed = await rows.evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)));
    expect(listed).toEqual([
      ['3', 'invalid JSON', expect.stringContaining('invalid JSON: Expected')],
      ['4', 'invalid JSON', expect.stringContaining('invalid JSON: Unexpected token')],
      ['5', 'missing answer', 'missing "answer"'],
      ['6', 'wrong type', '"question" must be a string, got number'],
      ['10', 'duplicate row', 'same question, plan, solution and answer as line 1'],
      ['11', 'missing answer', '"answer" has no "#### <final answer>" line'],
    ]);
    expect(await page.locator('.file-report[data-file="notes.txt"] .file-error').textContent()).toContain('not JSON');
    expect(await fileStat('notes.txt', 'rows')).toBe('0');
    expect(await page.locator('#data-preview .trajectory').count()).toBe(3);

    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#data-download-rejections')]);
    expect(download.suggestedFilename()).toBe('broken_rows-rejections.csv');
    const csv = readFileSync((await download.path())!, 'utf8').trim().split('\r\n');
    expect(csv[0]).toBe('file,line,element,code,reason');
    expect(csv).toHaveLength(1 + 7);
    expect(csv).toContain('broken.jsonl,5,,missing-answer,"missing ""answer"""');
    expect(csv.some((l) => l.startsWith('notes.txt,,,not-json,'))).toBe(true);
    await page.screenshot({ path: shot('data-rejections'), fullPage: true });
  });

  it('opens the picker from the keyboard, streams a 4 MB file with progress, and holds out a whole file as eval', async () => {
    await page.focus('#data-drop');
    const [bySpace] = await Promise.all([page.waitForEvent('filechooser'), page.keyboard.press('Space')]);
    expect(bySpace.isMultiple()).toBe(true);
    await bySpace.setFiles(dataFile('gsm8k/test.jsonl')); // a picker left open would block the next one
    expect(await page.locator('#data-selection').textContent()).toMatch(/^1 file chosen .*test\.jsonl$/);
    await page.focus('#data-drop');
    const [byEnter] = await Promise.all([page.waitForEvent('filechooser'), page.keyboard.press('Enter')]);
    await byEnter.setFiles([dataFile('gsm8k/train.jsonl'), dataFile('gsm8k/test.jsonl')]);
    await page.selectOption('#data-holdout', 'test.jsonl');
    expect(await page.locator('#data-eval').isDisabled()).toBe(true);
    await page.fill('#data-name', 'GSM8K train, test as eval');
    // Record every value the progress bar takes, to see that it moves while the file streams.
    await page.evaluate(() => {
      const bar = document.querySelector('#data-progress')!;
      const seen: string[] = [];
      Object.assign(window, { progressSeen: seen });
      new MutationObserver(() => seen.push(bar.getAttribute('value') ?? 'indeterminate')).observe(bar, { attributes: true, attributeFilter: ['value'] });
    });
    await page.click('#data-import');
    await page.locator('#data-progress.active').waitFor({ timeout: 5_000 });
    await page.screenshot({ path: shot('data-progress') });
    const status = page.locator('#data-status');
    await expect.poll(() => status.textContent(), { timeout: 30_000 }).toMatch(/Imported|failed/);
    expect(await status.textContent()).toContain('8,792 trajectories kept, 0 rejected');

    const seen = await page.evaluate(() => (window as unknown as { progressSeen: string[] }).progressSeen);
    const partial = new Set(seen.map(Number).filter((v) => v > 0 && v < 1));
    expect(partial.size).toBeGreaterThanOrEqual(10);
    expect(seen).toContain('indeterminate'); // while storing
    expect(await page.locator('.import-report .summary').textContent()).toMatch(/7,473 train, 1,319 eval \(eval is all of test\.jsonl\)/);
    expect(await page.locator('[data-contamination="clean"]').count()).toBe(1);
    // The GSM8K test problems are the ones the socratic set (stored above) is written on.
    expect(await page.locator('.import-report .warn').textContent()).toContain('1,319 problems of this dataset are also in the stored dataset “test_socratic”');
  });

  it('keeps the datasets across a reload, and deletes one only after confirmation', async () => {
    await page.reload();
    const names = () => page.locator('table.datasets tbody th.name').evaluateAll((ths) => ths.map((th) => th.firstChild?.textContent));
    await expect.poll(names, { timeout: 10_000 }).toEqual(['GSM8K train, test as eval', 'broken rows', 'test_socratic']);
    await page.screenshot({ path: shot('data-stored'), fullPage: true });

    const deleteBroken = page.getByRole('button', { name: 'Delete dataset broken rows' });
    page.once('dialog', (d) => void d.dismiss());
    await deleteBroken.click();
    expect(await names()).toHaveLength(3);

    let asked = '';
    page.once('dialog', (d) => {
      asked = d.message();
      void d.accept();
    });
    await deleteBroken.click();
    await expect.poll(names).toEqual(['GSM8K train, test as eval', 'test_socratic']);
    expect(asked).toContain('Delete the dataset “broken rows” and its 4 trajectories?');
    expect(await page.locator('#data-status').textContent()).toBe('Deleted the dataset “broken rows”.');

    await page.getByRole('button', { name: 'Preview dataset test_socratic' }).click();
    await expect.poll(() => page.locator('#data-preview h3').textContent()).toContain('Preview of “test_socratic”');

    await page.reload();
    await expect.poll(names, { timeout: 10_000 }).toEqual(['GSM8K train, test as eval', 'test_socratic']);
    await page.screenshot({ path: shot('data-deleted'), fullPage: true });
    expect(errors).toEqual([]);
  });
});
