// Matmul throughput in headless Chromium: node scripts/run-in-browser.mjs bench/matmul.bench.ts [shape]
// With a shape (a part of its name, e.g. V=32000), only the shapes whose name contains it are timed.
import type { HeadlessContext } from '../src/cli/headless-entry';
import { Engine } from '../src/gpu/engine';
import { benchMatmul } from './kernels/matmul';

export default async (ctx: HeadlessContext) => {
  const e = await Engine.create();
  const t0 = performance.now();
  await benchMatmul(e, ctx.log, ctx.args[0]);
  ctx.log(`total ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  e.gpu.destroy();
};
