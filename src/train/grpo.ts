// GRPO (TRL's GRPOTrainer, adapted): for each prompt sample G completions with the KV-cache
// generator, score them (correctness + plan format, weights configurable), normalise rewards
// within the group, and take a token-level clipped-surrogate step with an optional k3 KL to the
// reference policy (the base model with LoRA switched off, so KL needs LoRA). Truncated
// completions are masked. The loss becomes per-token weights for the GPU cross-entropy backward
// (see grpo-math.ts).
import type { AnswerLike } from '../data/answers';
import { composeRewards, correctnessReward, planFormatReward } from '../data/rewards';
import type { TemplateStyle } from '../data/templates';
import type { Tokenizer } from '../data/tokenizer/load';
import { readF32 } from '../gpu/transfer';
import { generateWithCache } from '../model/generate-cached';
import type { Batch, Transformer } from '../model/transformer';
import type { PromptItem } from './batches';
import { DataOrder } from './data-order';
import { type AdvantageScale, groupAdvantages, grpoTokenWeights } from './grpo-math';
import type { AdamW } from './optimizer';
import { type ScheduleConfig, learningRate } from './schedule';

export interface GrpoConfig {
  steps: number;
  /** Prompts per step; each gets `G` completions. */
  prompts: number;
  G: number;
  maxNewTokens: number;
  temperature: number;
  topK?: number;
  topP?: number;
  epsilon: number;
  epsilonHigh: number;
  beta: number;
  /** Optimisation passes over each batch of completions (old log-probs stored from the first). */
  numIterations: number;
  scale: AdvantageScale;
  /** Completions cut at maxNewTokens get no loss (their reward judges an unfinished answer). */
  maskTruncated: boolean;
  rewardWeights: { correctness: number; format: number };
  /** Replaces the composed correctness + format reward (tests, custom tasks). */
  reward?: (c: { text: string; tokens: number[]; item: PromptItem }) => number;
  style: TemplateStyle;
  schedule: Omit<ScheduleConfig, 'totalSteps'>;
  seed: number;
}

export interface GrpoSample {
  prompt: string;
  completion: string;
  reward: number;
  truncated: boolean;
  /** The gold answer, and whether the completion states it. */
  gold: string;
  correct: boolean;
}

export interface GrpoStepMetrics {
  step: number;
  rewardMean: number;
  rewardStd: number;
  accuracy: number;
  loss: number;
  clipFraction: number;
  kl: number;
  lr: number;
  gradNorm: number;
  completionTokens: number;
  /** Generation and training tokens per second over the step. */
  decodeTokensPerSecond: number;
  trainTokensPerSecond: number;
  samples: GrpoSample[];
}

interface Rollout {
  batch: Batch;
  B: number;
  T: number;
  /** For every (row, position) with mask 1: its flat index into batch arrays. */
  positions: number[];
}

/** Rows of prompt + completion with next-token targets; `mask` marks the completion's scored targets. */
function rollouts(items: PromptItem[], G: number, gens: { tokens: number[]; finish: string }[], eosId: number, padId: number, B: number, maskTruncated: boolean): Rollout[] {
  const rows = gens.map((g, i) => {
    const prompt = Array.from(items[Math.floor(i / G)].prompt);
    const completion = g.finish === 'eos' ? [...g.tokens, eosId] : g.tokens;
    return { ids: [...prompt, ...completion], from: prompt.length - 1, scored: !(maskTruncated && g.finish === 'length') };
  });
  const out: Rollout[] = [];
  for (let r0 = 0; r0 < rows.length; r0 += B) {
    const part = rows.slice(r0, r0 + B);
    const T = Math.max(...part.map((r) => r.ids.length - 1), 1);
    const n = part.length * T;
    const batch: Batch = { tokens: new Int32Array(n).fill(padId), targets: new Int32Array(n), weights: new Float32Array(n) };
    const positions: number[] = [];
    part.forEach((r, b) => {
      for (let t = 0; t < r.ids.length - 1; t++) {
        batch.tokens[b * T + t] = r.ids[t];
        batch.targets[b * T + t] = r.ids[t + 1];
        if (r.scored && t >= r.from) positions.push(b * T + t);
      }
    });
    out.push({ batch, B: part.length, T, positions });
  }
  return out;
}

export class GrpoTrainer {
  readonly order: DataOrder;
  step = 0;

  /** `start`: continue from a checkpoint's step and data order (the sampling seed follows from the step). */
  constructor(
    readonly model: Transformer,
    readonly opt: AdamW,
    readonly tokenizer: Tokenizer,
    readonly items: readonly PromptItem[],
    readonly cfg: GrpoConfig,
    start?: { step: number; order: DataOrder },
  ) {
    if (cfg.beta > 0 && !model.loraParams) throw new Error('GRPO with beta > 0 needs LoRA: the reference policy is the base model with the adapters off');
    this.order = start?.order ?? new DataOrder(items.length, cfg.seed);
    this.step = start?.step ?? 0;
  }

  /** One GRPO step: sample, score, and `numIterations` optimiser updates. */
  async runStep(): Promise<GrpoStepMetrics> {
    const { model, tokenizer, cfg } = this;
    const { e } = model;
    const step = ++this.step;
    const items = this.order.next(cfg.prompts).map((i) => this.items[i]);
    const prompts = items.flatMap((it) => Array.from({ length: cfg.G }, () => Array.from(it.prompt)));
    const tGen = performance.now();
    const gens = await generateWithCache(model, prompts, {
      maxNewTokens: cfg.maxNewTokens, temperature: cfg.temperature, topK: cfg.topK, topP: cfg.topP,
      seed: (cfg.seed * 7919 + step) >>> 0, eosIds: [tokenizer.eosId], padId: tokenizer.padId,
    });
    const genSeconds = (performance.now() - tGen) / 1000;
    const composed = composeRewards([
      { fn: correctnessReward, weight: cfg.rewardWeights.correctness },
      { fn: planFormatReward, weight: cfg.rewardWeights.format },
    ]);
    const texts = gens.map((g) => tokenizer.decode(g.tokens, { skipSpecial: true }));
    const gold = (i: number): AnswerLike => items[Math.floor(i / cfg.G)].answer;
    const rewards = texts.map((completion, i) =>
      cfg.reward
        ? cfg.reward({ text: completion, tokens: gens[i].tokens, item: items[Math.floor(i / cfg.G)] })
        : composed({ completion, gold: gold(i), style: cfg.style, tokens: gens[i].tokens.length }),
    );
    const correct = texts.map((completion, i) => correctnessReward({ completion, gold: gold(i), style: cfg.style }));
    const adv = groupAdvantages(rewards, cfg.G, cfg.scale);

    const lr = learningRate({ ...cfg.schedule, totalSteps: cfg.steps }, step - 1);
    const tTrain = performance.now();
    const rolls = rollouts(items, cfg.G, gens, tokenizer.eosId, tokenizer.padId, model.opts.B, cfg.maskTruncated);
    // Per scored token: its rollout, position, and the advantage of its sequence.
    const seqOf = (ri: number, pos: number) => ri * model.opts.B + Math.floor(pos / rolls[ri].T);
    const advantage = rolls.flatMap((r, ri) => r.positions.map((p) => adv[seqOf(ri, p)]));
    const mask = advantage.map(() => 1);
    const logpOf = async (loraOn: boolean): Promise<number[]> => {
      model.loraEnabled = loraOn;
      const out: number[] = [];
      for (const r of rolls) {
        model.setBatch(r.B, r.T, r.batch);
        await model.forward();
        e.rec.submit();
        const lp = await readF32(e.gpu, model.tokenOutputs().logprob);
        for (const p of r.positions) out.push(lp[p]);
      }
      model.loraEnabled = true;
      return out;
    };
    const refLogp = cfg.beta > 0 ? await logpOf(false) : undefined;
    let oldLogp: number[] | null = null;
    let last = { loss: 0, clipFraction: 0, meanKl: 0 };
    const trainTokens = rolls.reduce((s, r) => s + r.B * r.T, 0) * cfg.numIterations;
    for (let it = 0; it < cfg.numIterations; it++) {
      // With one iteration and no KL the weights need no log-probs: ratio 1, w = A / count.
      const needLogp = cfg.numIterations > 1 || cfg.beta > 0;
      const logp = needLogp ? await logpOf(true) : advantage.map(() => 0);
      oldLogp ??= logp;
      const w = grpoTokenWeights({ logp, oldLogp, refLogp, advantage, mask }, cfg);
      last = w;
      model.zeroGrads();
      let k = 0;
      for (const r of rolls) {
        const weights = new Float32Array(r.B * r.T);
        for (const p of r.positions) weights[p] = w.weights[k++];
        model.setBatch(r.B, r.T, { ...r.batch, weights });
        await model.forward({ dscale: 1 });
        await model.backward();
      }
      await this.opt.step(lr, step);
      e.rec.submit();
    }
    const mean = rewards.reduce((a, b) => a + b, 0) / rewards.length;
    const std = Math.sqrt(rewards.reduce((a, b) => a + (b - mean) ** 2, 0) / rewards.length);
    const completionTokens = gens.reduce((s, g) => s + g.tokens.length, 0);
    return {
      step,
      rewardMean: mean,
      rewardStd: std,
      accuracy: correct.reduce((a, b) => a + b, 0) / correct.length,
      loss: last.loss,
      clipFraction: last.clipFraction,
      kl: last.meanKl,
      lr,
      gradNorm: (await readF32(e.gpu, this.opt.norm))[0],
      completionTokens,
      decodeTokensPerSecond: completionTokens / genSeconds,
      trainTokensPerSecond: trainTokens / ((performance.now() - tTrain) / 1000),
      samples: texts.slice(0, cfg.G).map((completion, i) => ({
        prompt: tokenizer.decode(Array.from(items[0].prompt), { skipSpecial: true }),
        completion,
        reward: rewards[i],
        truncated: gens[i].finish === 'length',
        gold: items[0].answer.text,
        correct: correct[i] === 1,
      })),
    };
  }
}
