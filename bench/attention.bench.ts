// Attention throughput in headless Chromium: node scripts/run-in-browser.mjs bench/attention.bench.ts
import type { HeadlessContext } from '../src/cli/headless-entry';
import { Engine } from '../src/gpu/engine';
import { benchAttention } from './kernels/attention';

export default async (ctx: HeadlessContext) => {
  const e = await Engine.create();
  const t0 = performance.now();
  await benchAttention(e, ctx.log);
  ctx.log(`total ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  e.gpu.destroy();
};
