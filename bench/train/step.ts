// One model + optimizer on random weights and a random batch, and wall-clock timing of what a
// training step records: each sample records the work, submits it and awaits the queue, so the
// time includes recording (bind groups, uniforms) as a real step pays it.
import type { Engine } from '../../src/gpu/engine';
import { readF32 } from '../../src/gpu/transfer';
import { Transformer } from '../../src/model/transformer';
import { AdamW, DEFAULT_ADAMW } from '../../src/train/optimizer';
import { randomBatch, randomLora, randomParams } from '../../tests/helpers/model-data';
import { median } from '../timing';
import type { BenchConfig } from './configs';

export type Phase = 'forward' | 'forward+backward' | 'optimizer' | 'step';

const LR = 1e-4;

export class Trainee {
  readonly model: Transformer;
  readonly opt: AdamW;
  private readonly dscale: number;
  private optSteps = 0;

  constructor(
    readonly e: Engine,
    readonly bc: BenchConfig,
    readonly B: number,
  ) {
    const { cfg, T, lora } = bc;
    this.model = new Transformer(e, cfg, { B, T, lora });
    // GPT-2's init scale keeps activations ordinary (no overflow, no denormals to slow a CPU adapter).
    this.model.params.upload(randomParams(this.model.layout, 1, 0.02));
    if (this.model.loraParams) this.model.loraParams.upload(randomLora(this.model.layout, 2, 0.02));
    const trainable = lora ? [this.model.loraParams!, this.model.loraGrads!] : [this.model.params, this.model.grads!];
    this.opt = new AdamW(e, trainable[0], trainable[1], DEFAULT_ADAMW);
    const batch = randomBatch(B, T, cfg.V, 3);
    this.model.setBatch(B, T, batch);
    this.dscale = 1 / batch.weights.reduce((a, w) => a + w, 0); // a mean over the unmasked tokens
  }

  /** Records one phase (nothing is submitted). */
  async record(phase: Phase): Promise<void> {
    const { model } = this;
    if (phase === 'optimizer' || phase === 'step') {
      if (phase === 'step') await this.record('forward+backward');
      await this.opt.step(LR, ++this.optSteps);
      return;
    }
    if (phase === 'forward+backward') model.zeroGrads();
    await model.forward({ dscale: this.dscale });
    if (phase === 'forward+backward') await model.backward();
  }

  /** Mean −log p(target) over every token of the last forward: near ln V on random weights (a sanity check). */
  async meanNll(): Promise<number> {
    const logprob = await readF32(this.e.gpu, this.model.tokenOutputs().logprob);
    return -logprob.reduce((a, b) => a + b, 0) / logprob.length;
  }

  destroy(): void {
    this.opt.destroy();
    this.model.destroy();
  }
}

export interface PhaseTiming {
  /** Wall ms per sample: record + submit + wait. */
  ms: number[];
  medianMs: number;
  /** Median ms spent recording (JS) before the last submit. */
  recordMs: number;
  /** Dispatches per sample. */
  dispatches: number;
}

export interface Rounds {
  /** Ms of the warm-up step (shader compilation included). */
  warmupMs: number;
  /** Pipelines compiled during the warm-up step and the ms their compiles took (summed). */
  warmupCompiles: { count: number; ms: number };
  /** 'step' (the sum of its two parts), 'forward+backward' and 'optimizer' from the same samples; 'forward' when asked. */
  phases: Map<Phase, PhaseTiming>;
  /** The first timed step exceeded `limitMs`: timing stopped there. */
  tooSlow: boolean;
}

/** Counts every dispatch recorded on this engine (the recorder's own count resets at each submit). */
export function countDispatches(e: Engine): { n: number } {
  const counter = { n: 0 };
  const dispatch = e.rec.dispatch.bind(e.rec);
  e.rec.dispatch = (...args: Parameters<typeof dispatch>): void => {
    counter.n++;
    dispatch(...args);
  };
  return counter;
}

interface Sample {
  ms: number;
  recordMs: number;
  dispatches: number;
}

async function once(t: Trainee, phase: Phase, counter: { n: number }): Promise<Sample> {
  const before = counter.n;
  const t0 = performance.now();
  await t.record(phase);
  const t1 = performance.now();
  t.e.rec.submit();
  await t.e.rec.done();
  return { ms: performance.now() - t0, recordMs: t1 - t0, dispatches: counter.n - before };
}

/** One optimizer step in two submits, each awaited: forward + backward, then the optimizer. */
async function splitStep(t: Trainee, counter: { n: number }): Promise<{ step: Sample; fwdBwd: Sample; optimizer: Sample }> {
  const fwdBwd = await once(t, 'forward+backward', counter);
  const optimizer = await once(t, 'optimizer', counter);
  const step = { ms: fwdBwd.ms + optimizer.ms, recordMs: fwdBwd.recordMs + optimizer.recordMs, dispatches: fwdBwd.dispatches + optimizer.dispatches };
  return { step, fwdBwd, optimizer };
}

function summarize(samples: Sample[]): PhaseTiming {
  const ms = samples.map((s) => s.ms);
  return { ms, medianMs: median(ms), recordMs: median(samples.map((s) => s.recordMs)), dispatches: samples[samples.length - 1].dispatches };
}

/**
 * One warm-up step, then `rounds` timed steps, each followed by a forward alone when `forward` is
 * set. A step is recorded and awaited in two parts (forward + backward, then the optimizer), so the
 * phase times come from the very samples the step time is the median of; the extra wait costs one
 * queue round trip. Interleaving the forward keeps it under the same conditions as the steps.
 */
export async function timeRounds(
  t: Trainee,
  counter: { n: number },
  opts: { rounds: number; forward?: boolean; limitMs?: number; progress?: (line: string) => void },
): Promise<Rounds> {
  const { pipelines } = t.e;
  const [count0, ms0] = [pipelines.compiles, pipelines.compileMs];
  const warmupMs = (await splitStep(t, counter)).step.ms;
  const warmupCompiles = { count: pipelines.compiles - count0, ms: pipelines.compileMs - ms0 };
  opts.progress?.(`    warm-up step ${(warmupMs / 1000).toFixed(1)} s, of which ${warmupCompiles.count} pipeline compiles ${(warmupCompiles.ms / 1000).toFixed(1)} s`);
  const samples = new Map<Phase, Sample[]>([['step', []], ['forward+backward', []], ['optimizer', []]]);
  if (opts.forward) samples.set('forward', []);
  let tooSlow = false;
  for (let r = 0; r < opts.rounds && !tooSlow; r++) {
    const s = await splitStep(t, counter);
    samples.get('step')!.push(s.step);
    samples.get('forward+backward')!.push(s.fwdBwd);
    samples.get('optimizer')!.push(s.optimizer);
    let line = `    step ${r + 1}/${opts.rounds}: ${(s.step.ms / 1000).toFixed(2)} s (optimizer ${(s.optimizer.ms / 1000).toFixed(2)} s)`;
    tooSlow = r === 0 && opts.limitMs !== undefined && s.step.ms > opts.limitMs;
    if (opts.forward && !tooSlow) {
      const f = await once(t, 'forward', counter);
      samples.get('forward')!.push(f);
      line += `; forward alone ${(f.ms / 1000).toFixed(2)} s`;
    }
    opts.progress?.(line);
  }
  const phases = new Map<Phase, PhaseTiming>();
  for (const [phase, list] of samples) if (list.length) phases.set(phase, summarize(list));
  return { warmupMs, warmupCompiles, phases, tooSlow };
}
