// GRPO raises the mean reward on a task a tiny model can learn in a few steps: the reward is the
// fraction of generated tokens with an even id (about 0.5 for a random model).
import { describe, expect, it } from 'vitest';
import type { Tokenizer } from '../../src/data/tokenizer/load';
import { tinyLlama } from '../../src/model/config';
import { initLora, initParams } from '../../src/model/init';
import { Transformer } from '../../src/model/transformer';
import type { PromptItem } from '../../src/train/batches';
import { GrpoTrainer } from '../../src/train/grpo';
import { AdamW } from '../../src/train/optimizer';
import { testEngine } from '../helpers/gpu';

const e = await testEngine();

/** Ids are their own text: enough for generation and rewards on raw ids. */
const idTokenizer = (V: number): Tokenizer => ({
  encode: (text) => text.split(',').map(Number),
  decode: (ids) => ids.join(','),
  bosId: 1,
  eosId: V + 5, // never sampled: every completion runs to maxNewTokens
  padId: 0,
  vocabSize: V,
});

describe(`GRPO on ${e.gpu.adapter.name}`, () => {
  for (const lora of [false, true]) {
    it(`raises the mean reward of a learnable task (${lora ? 'LoRA, beta 0.04' : 'full, beta 0'})`, async () => {
      const V = 16;
      const cfg = tinyLlama({ V, C: 32, F: 48, L: 2, NH: 4, NKV: 2, maxT: 32 });
      const model = new Transformer(e, cfg, { B: 16, T: 16, lora: lora ? { rank: 4, alpha: 8, targets: ['q_proj', 'v_proj', 'gate_proj', 'down_proj'] } : undefined });
      model.params.upload(initParams(model.layout, 3, 0.3));
      if (lora) model.loraParams!.upload(initLora(model.layout, 4));
      const opt = new AdamW(e, lora ? model.loraParams! : model.params, lora ? model.loraGrads! : model.grads!, { beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0, maxGradNorm: 1 });
      const items: PromptItem[] = Array.from({ length: 8 }, (_, i) => ({ index: i, id: `p${i}`, prompt: Int32Array.from([1, 2 + (i % 5), 3 + (i % 7)]), answer: { text: '' }, steps: 1 }));
      const trainer = new GrpoTrainer(model, opt, idTokenizer(V), items, {
        steps: 30, prompts: 4, G: 4, maxNewTokens: 6, temperature: 1, epsilon: 0.2, epsilonHigh: 0.28, beta: lora ? 0.04 : 0,
        numIterations: lora ? 2 : 1, scale: 'group', maskTruncated: false, rewardWeights: { correctness: 1, format: 0 }, style: 'direct',
        schedule: { lr: lora ? 2e-2 : 3e-3, warmupSteps: 1, decay: 'constant' }, seed: 9,
        reward: ({ tokens }) => tokens.filter((t) => t % 2 === 0).length / tokens.length,
      });
      const rewards: number[] = [];
      for (let s = 0; s < 30; s++) rewards.push((await trainer.runStep()).rewardMean);
      const first = rewards.slice(0, 3).reduce((a, b) => a + b, 0) / 3;
      const lastFive = rewards.slice(-5).reduce((a, b) => a + b, 0) / 5;
      console.log(`GRPO ${lora ? 'LoRA' : 'full'} mean reward: first 3 steps ${first.toFixed(3)} -> last 5 steps ${lastFive.toFixed(3)}`);
      expect(lastFive).toBeGreaterThan(first + 0.15);
      opt.destroy();
      model.destroy();
    });
  }
});
