// The GPU transformer's loss and every gradient against the float64 reference, per family.
import { describe, expect, it } from 'vitest';
import { readF32 } from '../../src/gpu/transfer';
import { type ModelConfig, tinyGpt2, tinyLlama } from '../../src/model/config';
import type { LoraSpec } from '../../src/model/param-layout';
import { Transformer } from '../../src/model/transformer';
import { compareClose } from '../helpers/allclose';
import { testEngine } from '../helpers/gpu';
import { randomBatch, randomLora, randomParams } from '../helpers/model-data';
import { refForwardBackward } from '../reference/model';

const e = await testEngine();

interface Case {
  name: string;
  cfg: ModelConfig;
  B: number;
  T: number;
  lora?: LoraSpec;
}

const cases: Case[] = [
  { name: 'llama GQA untied', cfg: tinyLlama({ V: 37, C: 32, F: 40, L: 2, NH: 4, NKV: 2, maxT: 16 }), B: 2, T: 7 },
  { name: 'llama MQA tied', cfg: tinyLlama({ V: 29, C: 24, F: 36, L: 2, NH: 3, NKV: 1, maxT: 16, tied: true }), B: 3, T: 5 },
  { name: 'qwen2 biases', cfg: tinyLlama({ architecture: 'Qwen2ForCausalLM', V: 33, C: 32, F: 44, L: 2, NH: 4, NKV: 2, maxT: 16 }), B: 2, T: 6 },
  { name: 'llama attention+mlp bias', cfg: tinyLlama({ V: 19, C: 16, F: 20, L: 1, NH: 2, NKV: 2, maxT: 8, attentionBias: true, mlpBias: true }), B: 1, T: 8 },
  { name: 'gpt2', cfg: tinyGpt2({ V: 41, C: 32, F: 64, L: 2, NH: 4, maxT: 16 }), B: 2, T: 9 },
  { name: 'llama LoRA q,v,down', cfg: tinyLlama({ V: 37, C: 32, F: 40, L: 2, NH: 4, NKV: 2, maxT: 16 }), B: 2, T: 7, lora: { rank: 4, alpha: 8, targets: ['q_proj', 'v_proj', 'down_proj'] } },
];

describe(`GPU transformer vs float64 reference on ${e.gpu.adapter.name}`, () => {
  for (const c of cases) {
    it(`${c.name}: loss and every gradient (relErr < 1e-4)`, async () => {
      const model = new Transformer(e, c.cfg, { B: c.B, T: c.T, lora: c.lora });
      const params = randomParams(model.layout, 11);
      model.params.upload(params);
      const lora = c.lora ? randomLora(model.layout, 12) : undefined;
      if (lora) model.loraParams!.upload(lora);
      const batch = randomBatch(c.B, c.T, c.cfg.V, 13, { negativeWeights: true });
      const D = batch.weights.filter((w) => w !== 0).length;

      model.zeroGrads();
      model.setBatch(c.B, c.T, batch);
      await model.forward({ dscale: 1 / D });
      await model.backward();
      e.rec.submit();

      const ref = refForwardBackward(model.layout, Float64Array.from(params), { B: c.B, T: c.T, ...batch }, { lora: lora && Float64Array.from(lora) });
      const tokenLoss = await readF32(e.gpu, model.tokenOutputs().loss);
      const loss = tokenLoss.reduce((a, b) => a + b, 0) / D;
      expect(Math.abs(loss - ref.loss) / Math.abs(ref.loss)).toBeLessThan(1e-4);

      const failures: string[] = [];
      const check = async (gpu: Float32Array, refFlat: Float64Array, specs: typeof model.layout.tensors) => {
        const scale = refFlat.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
        for (const s of specs) {
          const got = gpu.subarray(s.offset, s.offset + s.size);
          const want = refFlat.subarray(s.offset, s.offset + s.size);
          const r = compareClose(got, want, { tol: 1e-4 });
          // A gradient that is exactly zero in exact arithmetic (the key bias: softmax ignores a
          // score shift shared by all keys) has no meaningful relative error; f32 leaves ~1e-9.
          const zeroInTruth = r.maxAbs < 1e-6 * scale && want.every((x) => Math.abs(x) < 1e-12 * scale);
          if (!r.pass && !zeroInTruth) failures.push(`${s.name}: ${r.message}`);
        }
      };
      if (c.lora) await check(await readF32(e.gpu, model.loraGrads!.flat), ref.loraGrads!, model.layout.lora!.tensors);
      else await check(await readF32(e.gpu, model.grads!.flat), ref.grads, model.layout.tensors);
      expect(failures).toEqual([]);
      model.destroy();
    });
  }
});
