#!/usr/bin/env node
// Runs a TypeScript module in headless Chromium with WebGPU and streams its output here.
// Usage: node scripts/run-in-browser.mjs <module.ts> [args...]
// The module's default export is `async (ctx: { args, log(line), readFile(path), writeFile(path, data) }) => number | void`
// (see src/cli/headless-entry.ts). Benchmarks, the training CLI and the demo all run this way, so the
// code that runs is the same worker/engine code the page uses.
import { appendFileSync, closeSync, mkdirSync, openSync, readSync, statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { startBrowserSession } from './browser-session.mjs';

const [entry, ...args] = process.argv.slice(2);
if (!entry) {
  console.error('usage: node scripts/run-in-browser.mjs <module.ts> [args...]');
  process.exit(2);
}
let session;
try {
  session = await startBrowserSession();
} catch (e) {
  console.error(e instanceof Error ? e.message : String(e));
  process.exit(2);
}
const { url, browser } = session;
let code = 1;
try {
  const page = await browser.newPage();
  page.on('pageerror', (e) => console.error(`[page error] ${e.message}`));
  await page.exposeFunction('__plantuneLog', (line) => console.log(line));
  // Files cross between here and the page in base64 pieces: one string per file would cap them near 400 MB.
  await page.exposeFunction('__plantuneWriteFile', (path, base64, append) => {
    mkdirSync(dirname(resolve(path)), { recursive: true });
    (append ? appendFileSync : writeFileSync)(resolve(path), Buffer.from(base64, 'base64'));
  });
  await page.exposeFunction('__plantuneFileSize', (path) => statSync(resolve(path)).size);
  await page.exposeFunction('__plantuneReadFileRange', (path, start, end) => {
    const fd = openSync(resolve(path), 'r');
    try {
      const bytes = Buffer.alloc(end - start);
      return bytes.subarray(0, readSync(fd, bytes, 0, end - start, start)).toString('base64');
    } finally {
      closeSync(fd);
    }
  });
  await page.goto(`${url}scripts/headless.html`);
  code = await page.evaluate(
    async ({ entry, args }) => {
      const mod = await import(/* @vite-ignore */ `/${entry}`);
      const { runHeadless } = await import('/src/cli/headless-entry.ts');
      return runHeadless(mod.default, args);
    },
    { entry: entry.replace(/^\.\//, ''), args },
  );
} catch (e) {
  console.error(e instanceof Error ? e.message : String(e));
  code = 1;
} finally {
  await session.close();
}
process.exit(code);
