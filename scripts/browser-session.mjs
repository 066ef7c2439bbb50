// A Vite dev server for this project plus headless Chromium with WebGPU, for the CLI, benchmarks
// and end-to-end tests. `close()` stops both.
import { createServer } from 'vite';
import { chromium } from 'playwright';
import { resolve } from 'node:path';
import { browserArgs, findBrowser, NO_BROWSER_MESSAGE } from './find-browser.mjs';

/** @returns {Promise<{ url: string, browser: import('playwright').Browser, close: () => Promise<void> }>} */
export async function startBrowserSession() {
  const executablePath = findBrowser();
  if (!executablePath) throw new Error(NO_BROWSER_MESSAGE);
  const server = await createServer({ configFile: resolve('vite.config.ts'), logLevel: 'error', server: { port: 0, host: '127.0.0.1', hmr: false, watch: null } }); // no reloads mid-run when files change
  await server.listen();
  const url = server.resolvedUrls.local[0];
  const browser = await chromium.launch({ executablePath, args: browserArgs(), headless: true });
  return {
    url,
    browser,
    close: async () => {
      await browser.close();
      await server.close();
    },
  };
}
