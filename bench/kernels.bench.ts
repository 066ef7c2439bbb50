// `npm run bench:kernels`: every kernel family in one run on one adapter, so figures compare
// side by side (matmul with tfjs-webgpu on the same shapes, attention, memory-bound kernels).
import type { HeadlessContext } from '../src/cli/headless-entry';
import { Engine } from '../src/gpu/engine';
import { benchAttention } from './kernels/attention';
import { benchMatmul } from './kernels/matmul';
import { benchPointwise } from './kernels/pointwise';

export default async (ctx: HeadlessContext) => {
  const e = await Engine.create();
  const t0 = performance.now();
  for (const [name, bench] of [['matmul', benchMatmul], ['attention', benchAttention], ['pointwise', benchPointwise]] as const) {
    ctx.log(`\n== ${name}`);
    await bench(e, ctx.log);
  }
  ctx.log(`\ntotal ${((performance.now() - t0) / 1000).toFixed(1)} s on ${e.gpu.adapter.name}`);
  e.gpu.destroy();
};
