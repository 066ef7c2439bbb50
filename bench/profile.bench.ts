// Where the GPU time of a training step and of decoding goes, kernel by kernel (timestamp queries):
//   node scripts/run-in-browser.mjs bench/profile.bench.ts [config key, default llama] [decode rows, default 16]
// For a configuration of bench/train/configs.ts (random weights): one training step (forward,
// backward, AdamW) of its B x T batch, then greedy decoding of `rows` prompts of 64 tokens for 32
// new tokens over the KV cache, all rows at once. Each is run once untimed (compiles), then timed;
// the table gives each pipeline's total GPU time, its share and its number of passes. Wall time is
// printed beside the GPU total: the gap is recording, submits and readbacks.
import type { HeadlessContext } from '../src/cli/headless-entry';
import { Engine } from '../src/gpu/engine';
import { type KernelTime, PassTimer } from '../src/gpu/pass-timer';
import { generateWithCache } from '../src/model/generate-cached';
import { Transformer } from '../src/model/transformer';
import { BENCH_CONFIGS } from './train/configs';
import { Trainee } from './train/step';
import { randomLora, randomParams } from '../tests/helpers/model-data';
import { row } from './timing';

function table(ctx: HeadlessContext, title: string, times: KernelTime[], wallMs: number): void {
  const total = times.reduce((s, t) => s + t.ms, 0);
  ctx.log('');
  ctx.log(`${title}: GPU ${total.toFixed(1)} ms in ${times.reduce((s, t) => s + t.passes, 0)} passes, wall ${wallMs.toFixed(1)} ms`);
  const W = [52, 10, 7, 7];
  ctx.log(row(['pipeline', 'ms', '%', 'passes'], W));
  for (const t of times) ctx.log(row([t.label, t.ms.toFixed(1), ((100 * t.ms) / total).toFixed(1), String(t.passes)], W));
}

export default async (ctx: HeadlessContext) => {
  const key = ctx.args[0] ?? 'llama';
  const rows = Number(ctx.args[1] ?? 16);
  const bc = BENCH_CONFIGS.find((c) => c.key === key);
  if (!bc) throw new Error(`profile: no configuration "${key}" (${BENCH_CONFIGS.map((c) => c.key).join(', ')})`);
  if (!(Number.isInteger(rows) && rows >= 1)) throw new Error(`profile: decode rows must be a positive integer, got ${ctx.args[1]}`);
  const e = await Engine.create();
  ctx.log(`${bc.name}, B ${bc.B} x T ${bc.T}, on ${e.gpu.adapter.name}`);

  const trainee = new Trainee(e, bc, bc.B);
  const step = async (timer: PassTimer | null): Promise<number> => {
    e.rec.timer = timer;
    const t0 = performance.now();
    await trainee.record('step');
    e.rec.submit();
    await e.rec.done();
    e.rec.timer = null;
    return performance.now() - t0;
  };
  await step(null);
  const stepTimer = new PassTimer(e.gpu);
  const stepMs = await step(stepTimer);
  table(ctx, 'training step', await stepTimer.collect(), stepMs);
  trainee.opt.destroy();
  trainee.model.destroy();

  const model = new Transformer(e, bc.cfg, { B: Math.min(bc.B, rows), T: Math.min(bc.T, 128), genB: rows, train: false, lora: bc.lora });
  model.params.upload(randomParams(model.layout, 1, 0.02));
  if (model.loraParams) model.loraParams.upload(randomLora(model.layout, 2, 0.02));
  const prompts = Array.from({ length: rows }, (_, r) => Array.from({ length: 64 }, (_, j) => 1 + ((r * 31 + j * 7) % (bc.cfg.V - 1))));
  const decode = () => generateWithCache(model, prompts, { maxNewTokens: 32, temperature: 0, eosIds: [], padId: 0 });
  await decode();
  const decodeTimer = new PassTimer(e.gpu);
  e.rec.timer = decodeTimer;
  const t0 = performance.now();
  await decode();
  const decodeMs = performance.now() - t0;
  e.rec.timer = null;
  table(ctx, `greedy decode, ${rows} prompts x 32 new tokens (prefill included)`, await decodeTimer.collect(), decodeMs);
  if (stepTimer.untimed + decodeTimer.untimed) ctx.log(`(${stepTimer.untimed + decodeTimer.untimed} passes ran untimed: over PassTimer's limit per submit)`);
  model.destroy();
  e.gpu.destroy();
};
