// Resuming from a checkpoint stored in IndexedDB continues training exactly: k steps, checkpoint,
// a new model and optimizer restored from the store, then on to N steps give the parameters that
// N uninterrupted steps give.
import Dexie from 'dexie';
import { afterAll, describe, expect, it } from 'vitest';
import { syntheticProblems } from '../../src/data/synthetic';
import { byteLevelTokenizerConfig, byteLevelTokenizerJson } from '../../src/data/tokenizer/byte-level';
import { loadTokenizer } from '../../src/data/tokenizer/load';
import { readF32 } from '../../src/gpu/transfer';
import { tinyLlama } from '../../src/model/config';
import { initLora, initParams } from '../../src/model/init';
import type { LoraSpec } from '../../src/model/param-layout';
import { Transformer } from '../../src/model/transformer';
import { tokenizeExamples } from '../../src/train/batches';
import { captureCheckpoint, loadLatestCheckpoint, restoreCheckpoint, storeCheckpoint } from '../../src/train/checkpoint';
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
});
