// Pointwise kernel throughput in headless Chromium: node scripts/run-in-browser.mjs bench/pointwise.bench.ts
import type { HeadlessContext } from '../src/cli/headless-entry';
import { Engine } from '../src/gpu/engine';
import { benchPointwise } from './kernels/pointwise';

export default async (ctx: HeadlessContext) => {
  const e = await Engine.create();
  const t0 = performance.now();
  await benchPointwise(e, ctx.log);
  ctx.log(`total ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  e.gpu.destroy();
};
