// Training throughput in headless Chromium: npm run bench:train [config keys...]
// (keys: llama, gpt2, tiny, tiny-lora, llama-modes, default-modes; default all). For each reference configuration: tokens/s of
// full optimizer steps (forward + backward + grad-norm clip + AdamW, each sample recorded,
// submitted and awaited; median after one warm-up step), model FLOPs per token, achieved GFLOP/s,
// MFU against this adapter's measured 1024^3 matmul rate, and peak GPU memory; then where the time
// of the first configuration goes, phase by phase. Formulas: bench/train/flops.ts, memory.ts. Then the
// trainers as runs use them (bench/train/modes.ts): SFT tokens/s, a GRPO step, greedy decode with the KV cache.
import type { HeadlessContext } from '../src/cli/headless-entry';
import { Engine } from '../src/gpu/engine';
import { BENCH_CONFIGS } from './train/configs';
import { MODE_CONFIGS, type ModeFailure, type ModeResult, modesTable, runModeConfig } from './train/modes';
import { matmulPeak } from './train/peak';
import { type Outcome, memoryTable, paramTable, phaseTable, throughputTable } from './train/report';
import { runConfig } from './train/run';

export default async (ctx: HeadlessContext) => {
  const t0 = performance.now();
  const log = (line: string): void => ctx.log(line);
  const at = (): string => `[${((performance.now() - t0) / 1000).toFixed(0).padStart(4)} s]`;
  const keys = [...BENCH_CONFIGS, ...MODE_CONFIGS].map((c) => c.key);
  const unknown = ctx.args.filter((a) => !keys.includes(a));
  if (unknown.length) throw new Error(`unknown config ${unknown.join(', ')}; known: ${keys.join(', ')}`);
  const configs = ctx.args.length ? BENCH_CONFIGS.filter((c) => ctx.args.includes(c.key)) : BENCH_CONFIGS;
  const modeConfigs = ctx.args.length ? MODE_CONFIGS.filter((c) => ctx.args.includes(c.key)) : MODE_CONFIGS;

  const e = await Engine.create();
  const adapter = e.gpu.adapter.name;
  const maxBuffer = e.gpu.limits.maxBufferSize;
  log(`${at()} adapter: ${adapter} (software: ${e.gpu.adapter.isSoftware}; maxBufferSize ${(maxBuffer / 2 ** 20).toFixed(0)} MB)`);
  const peak = await matmulPeak(e);
  e.gpu.destroy();
  log(`${at()} matmul peak (1024^3, default variant ${peak.launch}): ${peak.ms.toFixed(1)} ms = ${peak.gflops.toFixed(2)} GFLOP/s`);

  const outcomes: Outcome[] = [];
  for (const bc of configs) {
    log(`${at()} ${bc.name}`);
    outcomes.push(await runConfig(bc, (line) => log(`${at()} ${line}`)));
  }

  const modes: (ModeResult | ModeFailure)[] = [];
  for (const bc of modeConfigs) {
    log(`${at()} ${bc.name}: SFT, greedy decode, a GRPO step`);
    modes.push(await runModeConfig(ctx, bc, (line) => log(`${at()} ${line}`)));
  }

  const e2 = await Engine.create();
  const after = await matmulPeak(e2);
  e2.gpu.destroy();
  log(`${at()} matmul 1024^3 again at the end: ${after.gflops.toFixed(2)} GFLOP/s (a check on how steady the machine was)`);

  if (outcomes.length) {
    log('');
    log(`training throughput on ${adapter}; MFU against ${peak.gflops.toFixed(2)} GFLOP/s (1024^3 matmul at the start, ${peak.launch}; ${after.gflops.toFixed(2)} at the end)`);
    throughputTable(outcomes, peak, log);
    log('');
    log('parameters (P_mm = parameters multiplied per token: all but the embedding tables, plus the tied LM head)');
    paramTable(outcomes, log);
    log('');
    log('peak GPU memory: mem = buffer-pool peak (activations, batch/token-index tensors, LoRA u/du, adam m+v; size-class rounded) + flat params/grads;');
    log('"other" = mem minus the named parts; device peak = every buffer live on the device at once (adds kernel scratch, uniforms, read-back staging)');
    memoryTable(outcomes, log);
    for (const o of outcomes) {
      if ('error' in o || !o.bc.phases) continue;
      log('');
      log(`where the time goes: ${o.bc.name}, B=${o.B}, T=${o.bc.T} (medians; forward+backward and optimizer are the two awaited parts of the timed steps, forward alone is timed after each step; forward includes the loss and dlogits)`);
      phaseTable(o, peak, log);
    }
    log('');
    log('model FLOPs per token: full fine-tuning 6*P_mm + 12*L*T*C; LoRA 4*P_mm + 6*P_lora + 12*L*T*C (nanoGPT/PaLM style; attention over the full T x T)');
    log('timing: wall clock of record + submit + onSubmittedWorkDone per optimizer step, in two awaited submits (forward+backward, then clip + AdamW);');
    log('random weights (std 0.02) and a random batch (about 1/4 of tokens loss-masked); matmul variants: the default choice (no tuning trial in this run)');
    log('nll/lnV: mean -log p(target) over the batch after the timed steps, over ln V (about 1 on random weights: the run is finite and sane)');
  }
  if (modes.length) {
    log('');
    log('the trainers as runs use them (full fine-tuning, synthetic plan-then-solve problems, byte tokens): SFT = real training tokens/s of runSft');
    log(`(padded rows, one example each; ${MODE_CONFIGS[0].sftSteps} steps after a warm-up); GRPO = one step of prompts x G completions (${MODE_CONFIGS[0].grpo.prompts} x ${MODE_CONFIGS[0].grpo.G}, up to ${MODE_CONFIGS[0].grpo.maxNewTokens} new tokens,`);
    log('temperature 1): train = rollout rows B x T per second of the update, decode = completion tokens per second of sampling with the KV cache;');
    log('greedy dec. = tokens/s of greedy generation with the KV cache of prompts x G prompts, all at once (as GRPO samples);');
    log('B at a time = the same prompts on a second copy of the model generating its batch B at a time (interleaved with it)');
    modesTable(modes, log);
  }
  log(`total ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  return outcomes.some((o) => 'error' in o && !o.outOfMemory) || modes.some((m) => 'error' in m) ? 1 : 0;
};
