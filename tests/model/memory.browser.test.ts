// The memory estimate against what the code really allocates: every GPUBuffer created (and not
// destroyed) on a fresh engine while a Transformer and AdamW are built, one training step runs, a
// checkpoint is read back and a batch is generated to the full sequence length. estimate.total must
// cover the peak of those live bytes, and by no more than 1% (the pool may reuse a freed buffer).
import { describe, expect, it } from 'vitest';
import { Engine } from '../../src/gpu/engine';
import { readF32 } from '../../src/gpu/transfer';
import { type ModelConfig, tinyGpt2, tinyLlama } from '../../src/model/config';
import { generateWithCache } from '../../src/model/generate-cached';
import { initLora } from '../../src/model/init';
import { estimateMemory, memoryLimits } from '../../src/model/memory';
import type { LoraSpec } from '../../src/model/param-layout';
import { Transformer } from '../../src/model/transformer';
import { AdamW, DEFAULT_ADAMW } from '../../src/train/optimizer';
import { testEngine } from '../helpers/gpu';
import { randomBatch, randomParams } from '../helpers/model-data';

const base = await testEngine();

/** Counts the bytes of live buffers created on `device` from now on, and their peak. */
function countBuffers(device: GPUDevice): { live: () => number; peak: () => number; stop: () => void } {
  const create = device.createBuffer;
  let live = 0;
  let peak = 0;
  device.createBuffer = function (desc: GPUBufferDescriptor): GPUBuffer {
    const buf = create.call(device, desc);
    live += buf.size;
    peak = Math.max(peak, live);
    const destroy = buf.destroy;
    let destroyed = false;
    buf.destroy = function (): undefined {
      if (!destroyed) live -= buf.size;
      destroyed = true;
      return destroy.call(buf);
    };
    return buf;
  };
  return { live: () => live, peak: () => peak, stop: () => void (device.createBuffer = create) };
}

interface Case {
  name: string;
  cfg: ModelConfig;
  B: number;
  T: number;
  lora?: LoraSpec;
  /** Lower the engine's binding limit to this many bytes: the split paths then run (and allocate their scratch). */
  bindingLimit?: number;
  /** Sequences generated at once (prefilled B at a time); default B. */
  genRows?: number;
}

const cases: Case[] = [
  { name: 'llama GQA, full fine-tuning', cfg: tinyLlama({ V: 97, C: 32, F: 56, L: 2, NH: 4, NKV: 2, maxT: 32 }), B: 3, T: 24 },
  { name: 'gpt2, full fine-tuning', cfg: tinyGpt2({ V: 61, C: 32, F: 96, L: 2, NH: 2, maxT: 32 }), B: 2, T: 20 },
  { name: 'qwen2 LoRA r4 on every linear', cfg: tinyLlama({ architecture: 'Qwen2ForCausalLM', V: 83, C: 48, F: 64, L: 2, NH: 4, NKV: 2, maxT: 32 }), B: 2, T: 32,
    lora: { rank: 4, alpha: 8, targets: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] } },
  // Parameters, moments, the LM head (160 × 32) and the logits exceed a 16 KiB binding: bound in pieces.
  { name: 'llama, 16 KiB bindings', cfg: tinyLlama({ V: 160, C: 32, F: 48, L: 2, NH: 4, NKV: 2, maxT: 32 }), B: 2, T: 32, bindingLimit: 16384 },
  { name: 'llama GQA, 7 sequences generated at once', cfg: tinyLlama({ V: 97, C: 32, F: 56, L: 2, NH: 4, NKV: 2, maxT: 32 }), B: 3, T: 24, genRows: 7 },
];

describe(`memory estimate vs allocated buffers on ${base.gpu.adapter.name}`, () => {
  for (const c of cases) {
    it(`${c.name}: estimate.total covers the peak of live bytes, within 1%`, async () => {
      base.gpu.bindingLimit = c.bindingLimit ?? null;
      const est = estimateMemory(c.cfg, { batch: c.B, seq: c.T, lora: c.lora, genRows: c.genRows }, memoryLimits(base.gpu, undefined));
      expect(est.problems).toEqual([]);
      if (c.bindingLimit) expect(est.bindingNotes.length).toBeGreaterThan(0);
      const count = countBuffers(base.device);
      // A fresh engine on the same device: its own pool, scratch and uniform arena, all counted.
      const e = new Engine(base.gpu);
      try {
        const model = new Transformer(e, c.cfg, { B: c.B, T: c.T, lora: c.lora, genB: c.genRows });
        model.params.upload(randomParams(model.layout, 1));
        if (c.lora) model.loraParams!.upload(initLora(model.layout, 2));
        const opt = new AdamW(e, c.lora ? model.loraParams! : model.params, c.lora ? model.loraGrads! : model.grads!, DEFAULT_ADAMW);
        const afterBuild = count.live();

        model.setBatch(c.B, c.T, randomBatch(c.B, c.T, c.cfg.V, 3));
        model.zeroGrads();
        await model.forward({ dscale: 1 / (c.B * c.T) });
        await model.backward();
        await opt.step(1e-3, 1);
        e.rec.submit();
        await e.rec.done();
        const afterStep = count.live();
        for (const t of [opt.params.flat, opt.m, opt.v]) await readF32(e.gpu, t); // what captureCheckpoint reads
        const prompts = Array.from({ length: c.genRows ?? c.B }, (_, b) => [1 + b]);
        const gens = await generateWithCache(model, prompts, { maxNewTokens: c.T, temperature: 0 });
        expect(gens.map((g) => g.tokens.length)).toEqual(prompts.map(() => c.T - 1));
        const peak = count.peak();

        console.log(
          `${c.name}: estimate ${est.total} B (params ${est.params}, grads ${est.grads}, moments ${est.moments}, activations ${est.activations}, ` +
            `other ${est.other}, generation ${est.generation}, readback ${est.readback}); allocated: ${afterBuild} after build, ${afterStep} after a step, peak ${peak}`,
        );
        expect(est.total).toBeGreaterThanOrEqual(peak);
        expect((est.total - peak) / peak).toBeLessThan(0.01);
        opt.destroy();
        model.destroy();
      } finally {
        base.gpu.bindingLimit = null;
        count.stop();
        e.pool.trim();
      }
    });
  }
});
