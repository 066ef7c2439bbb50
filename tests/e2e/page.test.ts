// End-to-end: the real page in headless Chromium (SwiftShader here) reports the adapter its worker found.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync } from 'node:fs';
import { startBrowserSession } from '../../scripts/browser-session.mjs';

let session: Awaited<ReturnType<typeof startBrowserSession>>;

beforeAll(async () => {
  session = await startBrowserSession();
}, 60_000);
afterAll(async () => session?.close());

describe('the page', () => {
  it('reports the WebGPU adapter found by its worker', async () => {
    const page = await session.browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(session.url);
    const status = page.locator('#gpu-status');
    await expect.poll(() => status.textContent(), { timeout: 30_000 }).toContain('WebGPU adapter:');
    console.log(`page says: ${await status.textContent()}`);
    await expect.poll(() => page.locator('#gpu-details').isVisible()).toBe(true);
    mkdirSync('test-results', { recursive: true });
    await page.screenshot({ path: 'test-results/page-gpu.png' });
    expect(errors).toEqual([]);
  });
});
