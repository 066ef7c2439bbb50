// A tiny model must be able to memorise one batch: forward + backward + clip + AdamW, many steps.
import { describe, expect, it } from 'vitest';
import { readF32 } from '../../src/gpu/transfer';
import { tinyGpt2, tinyLlama } from '../../src/model/config';
import { Transformer } from '../../src/model/transformer';
import { AdamW } from '../../src/train/optimizer';
import { testEngine } from '../helpers/gpu';
import { randomBatch, randomParams } from '../helpers/model-data';

const e = await testEngine();

describe(`training step on ${e.gpu.adapter.name}`, () => {
  for (const [name, cfg] of [
    ['llama', tinyLlama({ V: 23, C: 32, F: 48, L: 2, NH: 4, NKV: 2, maxT: 16 })],
    ['gpt2', tinyGpt2({ V: 23, C: 32, F: 64, L: 2, NH: 4, maxT: 16 })],
  ] as const) {
    it(`${name}: overfits one batch (loss near 0 in 200 steps)`, async () => {
      const B = 2;
      const T = 12;
      const model = new Transformer(e, cfg, { B, T });
      model.params.upload(randomParams(model.layout, 5, 0.1));
      const opt = new AdamW(e, model.params, model.grads!, { beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0, maxGradNorm: 1 });
      const batch = randomBatch(B, T, cfg.V, 6);
      batch.weights.fill(1);
      model.setBatch(B, T, batch);
      const losses: number[] = [];
      for (let step = 1; step <= 200; step++) {
        model.zeroGrads();
        await model.forward({ dscale: 1 / (B * T) });
        await model.backward();
        await opt.step(3e-3, step);
        e.rec.submit();
        if (step === 1 || step % 50 === 0) losses.push((await readF32(e.gpu, model.tokenOutputs().loss)).reduce((a, b) => a + b, 0) / (B * T));
      }
      console.log(`${name} overfit loss: ${losses.map((l) => l.toFixed(4)).join(' -> ')}`);
      expect(losses[0]).toBeGreaterThan(2.5); // about ln(23) = 3.1 at the start
      expect(losses[losses.length - 1]).toBeLessThan(0.05);
      opt.destroy();
      model.destroy();
    });
  }
});
