// Supervised fine-tuning: completion-only loss over tokenized examples, micro-batches with
// gradient accumulation, warmup + cosine/linear schedule, clipping, AdamW, periodic eval.
// The same loop trains the default model from scratch (with the loss on prompt tokens too) and
// runs offline RL (filtered BC = SFT on correct rows; reward-weighted BC = per-example weights).
import type { Tokenizer } from '../data/tokenizer/load';
import { readF32 } from '../gpu/transfer';
import type { Transformer } from '../model/transformer';
import { type PromptItem, type TokenizedExample, lossTokenCount, makeBatch } from './batches';
import { DataOrder } from './data-order';
import { type EvalResult, evaluate } from './evaluate';
import type { AdamW } from './optimizer';
import { type ScheduleConfig, learningRate } from './schedule';

export interface SftConfig {
  steps: number;
  /** Examples per micro-batch (rows); each step runs `gradAccum` micro-batches. */
  batchSize: number;
  gradAccum: number;
  schedule: Omit<ScheduleConfig, 'totalSteps'>;
  seed: number;
  /** Log the loss every this many steps (a small readback). */
  logEvery: number;
  /** Evaluate every this many steps (0 = only at the end, when eval items are given). */
  evalEvery: number;
  evalMaxNewTokens: number;
  /**
   * Pack whole examples into full rows of the model's T (pretraining on short texts): draw this many
   * examples per micro-batch; the ones that do not fit go back to the front of the data order.
   */
  packDraw?: number;
  /** Per-example loss weight (reward-weighted BC); default 1. */
  exampleWeights?: Float32Array;
}

export interface StepMetrics {
  step: number;
  loss: number;
  lr: number;
  gradNorm: number;
  tokensPerSecond: number;
  /** Seconds left at the current speed. */
  eta: number;
}

export interface SftHooks {
  onStep?(m: StepMetrics): void;
  onEval?(step: number, r: EvalResult): void;
  /** Return true to stop after the current step (pause / stop buttons). */
  shouldStop?(): boolean;
}

export interface SftState {
  /** Optimizer steps completed. */
  step: number;
  order: DataOrder;
}

export function newSftState(examples: number, seed: number): SftState {
  return { step: 0, order: new DataOrder(examples, seed) };
}

/** Runs SFT from `state.step` to `cfg.steps`; returns the last eval (if any) and the final metrics. */
export async function runSft(
  model: Transformer, opt: AdamW, tokenizer: Tokenizer, examples: readonly TokenizedExample[], evalItems: readonly PromptItem[],
  cfg: SftConfig, state: SftState, hooks: SftHooks = {},
): Promise<{ lastEval: EvalResult | null; last: StepMetrics | null }> {
  const { e } = model;
  const cap = model.opts.T;
  const schedule: ScheduleConfig = { ...cfg.schedule, totalSteps: cfg.steps };
  let lastEval: EvalResult | null = null;
  let last: StepMetrics | null = null;
  let tokens = 0;
  const t0 = performance.now();
  const startStep = state.step;
  while (state.step < cfg.steps) {
    const step = state.step + 1;
    // Build the step's micro-batches first: the loss divisor is the step's total loss tokens.
    const micro = Array.from({ length: cfg.gradAccum }, () => {
      if (cfg.packDraw) {
        const m = makeBatch(examples, state.order.next(cfg.packDraw), { B: cfg.batchSize, T: cap, padId: tokenizer.padId, pack: true, exampleWeights: cfg.exampleWeights });
        state.order.putBack(m.leftover);
        return m;
      }
      const idx = state.order.next(cfg.batchSize);
      const T = Math.min(cap, Math.max(...idx.map((i) => examples[i].ids.length)) - 1);
      return makeBatch(examples, idx, { B: cfg.batchSize, T, padId: tokenizer.padId, exampleWeights: cfg.exampleWeights });
    });
    const lossTokens = micro.reduce((s, m) => s + lossTokenCount(m.batch), 0);
    const logNow = step % cfg.logEvery === 0 || step === cfg.steps;
    let lossSum = 0;
    model.zeroGrads();
    for (const m of micro) {
      model.setBatch(m.B, m.T, m.batch);
      await model.forward({ dscale: 1 / Math.max(1, lossTokens) });
      await model.backward();
      tokens += m.tokensInBatch;
      if (logNow) {
        e.rec.submit();
        lossSum += (await readF32(e.gpu, model.tokenOutputs().loss)).reduce((a, b) => a + b, 0);
      }
    }
    const lr = learningRate(schedule, step - 1);
    await opt.step(lr, step);
    e.rec.submit();
    state.step = step;
    if (logNow) {
      const loss = lossSum / Math.max(1, lossTokens);
      if (!Number.isFinite(loss)) throw new Error(`training diverged: the loss is ${loss} at step ${step}; lower the learning rate (it was ${lr.toExponential(2)})`);
      const seconds = (performance.now() - t0) / 1000;
      const perStep = seconds / (step - startStep);
      last = { step, loss, lr, gradNorm: (await readF32(e.gpu, opt.norm))[0], tokensPerSecond: tokens / seconds, eta: perStep * (cfg.steps - step) };
      hooks.onStep?.(last);
    }
    const evalNow = evalItems.length > 0 && ((cfg.evalEvery > 0 && step % cfg.evalEvery === 0) || step === cfg.steps);
    if (evalNow) {
      lastEval = await evaluate(model, tokenizer, evalItems, { maxNewTokens: cfg.evalMaxNewTokens });
      hooks.onEval?.(step, lastEval);
    }
    if (hooks.shouldStop?.()) break;
  }
  return { lastEval, last };
}
