// Exported files loaded into the GPU transformer: HF safetensors (plain, and with LoRA merged
// in) and PEFT adapters; the forward's per-token loss equals the float64 reference's.
import { describe, expect, it } from 'vitest';
import { readF32 } from '../../src/gpu/transfer';
import { readSafetensors } from '../../src/io';
import { type ModelConfig, tinyGpt2, tinyLlama } from '../../src/model/config';
import { exportHfModel, loadHfWeights } from '../../src/model/hf-weights';
import { exportPeft, importPeft } from '../../src/model/lora-io';
import { type LoraSpec, paramLayout } from '../../src/model/param-layout';
import { type Batch, Transformer } from '../../src/model/transformer';
import { testEngine } from '../helpers/gpu';
import { randomBatch, randomLora, randomParams } from '../helpers/model-data';
import { refForward } from '../reference/model';

const e = await testEngine();
const B = 2;
const T = 7;

/** Per-token loss of the GPU forward (weight · nll). */
async function gpuTokenLoss(model: Transformer, batch: Batch): Promise<Float32Array> {
  model.setBatch(B, T, batch);
  await model.forward();
  e.rec.submit();
  return readF32(e.gpu, model.tokenOutputs().loss);
}

function refTokenLoss(nll: Float64Array, batch: Batch): Float64Array {
  return nll.map((x, i) => x * batch.weights[i]);
}

interface Case {
  name: string;
  cfg: ModelConfig;
  lora?: LoraSpec;
}

const cases: Case[] = [
  { name: 'llama GQA untied', cfg: tinyLlama({ V: 37, C: 32, F: 40, L: 2, NH: 4, NKV: 2, maxT: 16 }) },
  { name: 'qwen2 biases tied', cfg: tinyLlama({ architecture: 'Qwen2ForCausalLM', V: 33, C: 32, F: 44, L: 2, NH: 4, NKV: 2, maxT: 16, tied: true }) },
  { name: 'gpt2', cfg: tinyGpt2({ V: 41, C: 32, F: 64, L: 2, NH: 4, maxT: 16 }) },
  { name: 'llama LoRA q,v,down', cfg: tinyLlama({ V: 37, C: 32, F: 40, L: 2, NH: 4, NKV: 2, maxT: 16 }), lora: { rank: 4, alpha: 8, targets: ['q_proj', 'v_proj', 'down_proj'] } },
  { name: 'gpt2 LoRA c_attn,c_fc', cfg: tinyGpt2({ V: 41, C: 32, F: 64, L: 2, NH: 4, maxT: 16 }), lora: { rank: 2, alpha: 4, targets: ['c_attn', 'c_fc'] } },
];

describe(`exported weights in the GPU transformer on ${e.gpu.adapter.name}`, () => {
  cases.forEach((c, i) => {
    it(`${c.name}: per-token loss equals the reference (|Δ| <= 1e-4 + 1e-4·|ref|)`, async () => {
      const layout = paramLayout(c.cfg, c.lora);
      const params = randomParams(layout, 70 + i);
      const lora = c.lora ? randomLora(layout, 80 + i, 0.5) : undefined;
      const batch = randomBatch(B, T, c.cfg.V, 90 + i);
      const ref = refTokenLoss(refForward(layout, Float64Array.from(params), { B, T, ...batch }, { lora: lora && Float64Array.from(lora) }).nll, batch);

      // The model as exported (base weights), with its adapters through PEFT files.
      const model = new Transformer(e, c.cfg, { B, T, lora: c.lora, train: false });
      model.params.upload(await loadHfWeights(model.layout, await readSafetensors(exportHfModel(layout, params).safetensors)));
      if (lora) {
        const { adapterConfigJson, adapterSafetensors } = exportPeft(layout, lora, { baseModel: 'test/tiny' });
        model.loraParams!.upload(await importPeft(model.layout, adapterConfigJson, adapterSafetensors));
      }
      expect(await gpuTokenLoss(model, batch)).toAllClose(ref, { tol: 1e-4, atol: 1e-4 });
      model.destroy();
      if (!lora) return;

      // The LoRA merged into a plain exported model.
      const plain = new Transformer(e, c.cfg, { B, T, train: false });
      plain.params.upload(await loadHfWeights(plain.layout, await readSafetensors(exportHfModel(layout, params, { lora }).safetensors)));
      expect(await gpuTokenLoss(plain, batch)).toAllClose(ref, { tol: 1e-4, atol: 1e-4 });
      plain.destroy();
    });
  });
});
