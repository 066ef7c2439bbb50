// Resuming from a checkpoint stored in IndexedDB continues training exactly: k steps, checkpoint,
// a new model and optimizer restored from the store, then on to N steps give the parameters that
// N uninterrupted steps give — for SFT and for GRPO (whose sampling seed follows from the step).
// A checkpoint of parameters that hold NaN or Infinity is refused.
import Dexie from 'dexie';
import { afterAll, describe, expect, it } from 'vitest';
import { syntheticProblems } from '../../src/data/synthetic';
import { byteLevelTokenizerConfig, byteLevelTokenizerJson } from '../../src/data/tokenizer/byte-level';
import { type Tokenizer, loadTokenizer } from '../../src/data/tokenizer/load';
import { readF32 } from '../../src/gpu/transfer';
import { tinyLlama } from '../../src/model/config';
import { initLora, initParams } from '../../src/model/init';
import type { LoraSpec } from '../../src/model/param-layout';
import { Transformer } from '../../src/model/transformer';
import { type PromptItem, tokenizeExamples } from '../../src/train/batches';
import { captureCheckpoint, loadLatestCheckpoint, restoreCheckpoint, storeCheckpoint } from '../../src/train/checkpoint';
import { type GrpoConfig, GrpoTrainer } from '../../src/train/grpo';
import { AdamW } from '../../src/train/optimizer';
import { type SftConfig, newSftState, runSft } from '../../src/train/sft';
import { openPlantuneDb } from '../../src/store/db';
import { listCheckpoints } from '../../src/store/checkpoints';
import { testEngine } from '../helpers/gpu';

const e = await testEngine();
const dbName = `plantune-checkpoint-test-${Date.now()}`;
const db = await openPlantuneDb({ name: dbName });
afterAll(async () => {
  db.close();
  await Dexie.delete(dbName);
});

const T = 112;
const tokenizer = await loadTokenizer(byteLevelTokenizerJson(), byteLevelTokenizerConfig(128));
const cfg = tinyLlama({ V: tokenizer.vocabSize, C: 32, F: 48, L: 2, NH: 4, NKV: 2, maxT: 128 });
// 10 examples in batches of 2 with 2 micro-batches: an epoch ends inside step 3, and again in step 5.
const { examples } = tokenizeExamples(syntheticProblems({ seed: 5, count: 10, maxValue: 20, maxSteps: 1 }), tokenizer, { style: 'direct', maxLength: T + 1 });
const sft: SftConfig = {
  steps: 6, batchSize: 2, gradAccum: 2, seed: 7, logEvery: 2, evalEvery: 0, evalMaxNewTokens: 4,
  schedule: { lr: 3e-3, warmupSteps: 2, decay: 'cosine', minLrRatio: 0.1 },
};

function build(lora?: LoraSpec): { model: Transformer; opt: AdamW; destroy(): void } {
  const model = new Transformer(e, cfg, { B: sft.batchSize, T, lora });
  model.params.upload(initParams(model.layout, 3, 0.1));
  if (lora) model.loraParams!.upload(initLora(model.layout, 4));
  const opt = new AdamW(e, lora ? model.loraParams! : model.params, lora ? model.loraGrads! : model.grads!, { beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1, maxGradNorm: 1 });
  return { model, opt, destroy: () => (opt.destroy(), model.destroy()) };
}

const maxAbsDiff = (a: Float32Array, b: Float32Array): number => a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0);

describe(`checkpoint and resume on ${e.gpu.adapter.name}`, () => {
  for (const lora of [undefined, { rank: 4, alpha: 8, targets: ['q_proj', 'v_proj', 'down_proj'] }]) {
    it(`${lora ? 'LoRA' : 'full'}: 6 steps straight = 3 steps, IndexedDB checkpoint, new model restored, 3 more steps`, async () => {
      expect(examples.length).toBe(10);
      const straight = build(lora);
      await runSft(straight.model, straight.opt, tokenizer, examples, [], sft, newSftState(examples.length, sft.seed));
      const want = await readF32(e.gpu, straight.opt.params.flat);
      const wantM = await readF32(e.gpu, straight.opt.m);
      straight.destroy();

      const runId = `resume-${lora ? 'lora' : 'full'}`;
      const first = build(lora);
      const state = newSftState(examples.length, sft.seed);
      await runSft(first.model, first.opt, tokenizer, examples, [], sft, state, { shouldStop: () => state.step === 3 });
      expect(state.step).toBe(3);
      await storeCheckpoint(db, runId, await captureCheckpoint(first.model, first.opt, state), 2);
      const atThree = await readF32(e.gpu, first.opt.params.flat);
      first.destroy();

      const second = build(lora);
      const ckpt = await loadLatestCheckpoint(db, runId);
      expect(ckpt?.meta.step).toBe(3);
      expect([...ckpt!.files.keys()].sort()).toEqual(['adam.m', 'adam.v', lora ? 'lora' : 'params']);
      const resumed = await restoreCheckpoint(second.model, second.opt, ckpt!, examples.length);
      expect(maxAbsDiff(await readF32(e.gpu, second.opt.params.flat), atThree)).toBe(0);
      await runSft(second.model, second.opt, tokenizer, examples, [], sft, resumed);
      expect(resumed.step).toBe(6);
      const got = await readF32(e.gpu, second.opt.params.flat);
      const gotM = await readF32(e.gpu, second.opt.m);
      second.destroy();

      const diff = maxAbsDiff(got, want);
      console.log(`${lora ? 'LoRA' : 'full'} resume: max |resumed - straight| = ${diff.toExponential(2)} over ${want.length} parameters; moved ${maxAbsDiff(want, atThree).toExponential(2)} in steps 4-6`);
      expect(got.every(Number.isFinite)).toBe(true);
      expect(maxAbsDiff(want, atThree)).toBeGreaterThan(1e-4); // the last steps did change something
      expect(diff).toBeLessThan(1e-5);
      expect(maxAbsDiff(gotM, wantM)).toBeLessThan(1e-5);
    });
  }

  it('keeps the last checkpoints and refuses a different data set or parameter layout', async () => {
    const run = build();
    const state = newSftState(examples.length, sft.seed);
    for (const stop of [1, 2, 3]) {
      await runSft(run.model, run.opt, tokenizer, examples, [], sft, state, { shouldStop: () => state.step === stop });
      await storeCheckpoint(db, 'keep', await captureCheckpoint(run.model, run.opt, state), 2);
    }
    expect((await listCheckpoints(db, 'keep')).map((c) => c.step)).toEqual([2, 3]);
    const ckpt = (await loadLatestCheckpoint(db, 'keep'))!;
    await expect(restoreCheckpoint(run.model, run.opt, ckpt, examples.length + 1)).rejects.toThrow(/covers 10 examples, but the data set has 11/);
    run.destroy();
    const lora = build({ rank: 2, alpha: 4, targets: ['q_proj'] });
    await expect(restoreCheckpoint(lora.model, lora.opt, ckpt, examples.length)).rejects.toThrow(/trains the full model, this run LoRA adapters/);
    lora.destroy();
    expect(await loadLatestCheckpoint(db, 'none')).toBeUndefined();
  });

  it('GRPO: 4 steps straight = 2 steps, IndexedDB checkpoint, new model and trainer restored, 2 more steps', async () => {
    const V = 16;
    // Ids are their own text; EOS is never sampled, so every completion runs to maxNewTokens.
    const idTokenizer: Tokenizer = { encode: (t) => t.split(',').map(Number), decode: (ids) => ids.join(','), bosId: 1, eosId: V + 5, padId: 0, vocabSize: V };
    const gcfg = tinyLlama({ V, C: 32, F: 48, L: 2, NH: 4, NKV: 2, maxT: 32 });
    // 5 prompts drawn 2 per step: an epoch ends inside step 3.
    const items: PromptItem[] = Array.from({ length: 5 }, (_, i) => ({ index: i, id: `p${i}`, prompt: Int32Array.from([1, 2 + i, 3 + ((3 * i) % 7)]), answer: { text: '' }, steps: 1 }));
    const grpo: GrpoConfig = {
      steps: 4, prompts: 2, G: 4, maxNewTokens: 6, temperature: 1, epsilon: 0.2, epsilonHigh: 0.28, beta: 0, numIterations: 2, scale: 'group',
      maskTruncated: false, rewardWeights: { correctness: 1, format: 0 }, style: 'direct', schedule: { lr: 3e-3, warmupSteps: 1, decay: 'cosine' }, seed: 9,
      reward: ({ tokens }) => tokens.filter((t) => t % 2 === 0).length / tokens.length,
    };
    const make = () => {
      const model = new Transformer(e, gcfg, { B: 8, T: 16 });
      model.params.upload(initParams(model.layout, 3, 0.3));
      const opt = new AdamW(e, model.params, model.grads!, { beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.01, maxGradNorm: 1 });
      return { model, opt, destroy: () => (opt.destroy(), model.destroy()) };
    };
    const straight = make();
    const t0 = new GrpoTrainer(straight.model, straight.opt, idTokenizer, items, grpo);
    const rewards: number[] = [];
    for (let s = 0; s < 4; s++) rewards.push((await t0.runStep()).rewardMean);
    const want = await readF32(e.gpu, straight.opt.params.flat);
    straight.destroy();

    const first = make();
    const t1 = new GrpoTrainer(first.model, first.opt, idTokenizer, items, grpo);
    for (let s = 0; s < 2; s++) await t1.runStep();
    await storeCheckpoint(db, 'grpo', await captureCheckpoint(first.model, first.opt, t1), 2);
    const atTwo = await readF32(e.gpu, first.opt.params.flat);
    first.destroy();

    const second = make();
    const restored = await restoreCheckpoint(second.model, second.opt, (await loadLatestCheckpoint(db, 'grpo'))!, items.length);
    expect(restored.step).toBe(2);
    const t2 = new GrpoTrainer(second.model, second.opt, idTokenizer, items, grpo, restored);
    const resumedRewards: number[] = [];
    for (let s = 0; s < 2; s++) resumedRewards.push((await t2.runStep()).rewardMean);
    expect(t2.step).toBe(4);
    const got = await readF32(e.gpu, second.opt.params.flat);
    second.destroy();

    const diff = maxAbsDiff(got, want);
    console.log(`GRPO resume: max |resumed - straight| = ${diff.toExponential(2)} over ${want.length} parameters; moved ${maxAbsDiff(want, atTwo).toExponential(2)} in steps 3-4`);
    expect(resumedRewards).toEqual(rewards.slice(2)); // the same prompts and samples
    expect(maxAbsDiff(want, atTwo)).toBeGreaterThan(1e-4);
    expect(diff).toBeLessThan(1e-5);
  });

  it('refuses to checkpoint parameters that hold NaN or Infinity', async () => {
    const run = build();
    const state = newSftState(examples.length, sft.seed);
    await runSft(run.model, run.opt, tokenizer, examples, [], sft, state, { shouldStop: () => state.step === 1 });
    const broken = await readF32(e.gpu, run.model.params.flat);
    broken[5] = Number.POSITIVE_INFINITY;
    run.model.params.upload(broken);
    await expect(captureCheckpoint(run.model, run.opt, state)).rejects.toThrow('training diverged: after step 1 the parameters hold Infinity (element 5); lower the learning rate');
    run.destroy();
  });
});
