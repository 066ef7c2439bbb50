// The memory estimate's arithmetic and its refusals. (That it equals what the GPU code really
// allocates is checked in memory.browser.test.ts.)
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { sizeClass } from '../../src/gpu/size-class';
import { activationBytes } from '../../src/model/activations';
import { parseHfConfig, tinyGpt2, tinyLlama } from '../../src/model/config';
import { assertFits, bytesText, countText, estimateMemory, fitGenRows, memoryLimits } from '../../src/model/memory';
import { paramLayout } from '../../src/model/param-layout';

const GiB = 2 ** 30;
const MiB = 2 ** 20;
const SWIFTSHADER = { maxBufferSize: GiB, maxStorageBufferBindingSize: GiB };
const ALL_LLAMA = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'];

const defaultModel = parseHfConfig(JSON.parse(readFileSync('public/models/plantune-tiny/config.json', 'utf8')));

/** Qwen2.5-0.5B's config.json (the fields Plantune reads). */
const qwen05 = parseHfConfig({
  architectures: ['Qwen2ForCausalLM'], model_type: 'qwen2', vocab_size: 151936, hidden_size: 896, intermediate_size: 4864,
  num_hidden_layers: 24, num_attention_heads: 14, num_key_value_heads: 2, max_position_embeddings: 32768,
  rms_norm_eps: 1e-6, rope_theta: 1000000, tie_word_embeddings: true, use_sliding_window: false, bos_token_id: 151643, eos_token_id: 151643,
});

describe('estimateMemory arithmetic', () => {
  it('counts the flat parameter, gradient and AdamW buffers of full fine-tuning', () => {
    const cfg = tinyLlama({ V: 64, C: 16, F: 32, L: 2, NH: 4, NKV: 2, maxT: 64 });
    const P = paramLayout(cfg).totalElements;
    const e = estimateMemory(cfg, { batch: 1, seq: 64 }, SWIFTSHADER);
    expect(e.params).toBe(4 * P);
    expect(e.grads).toBe(4 * P);
    expect(e.moments).toBe(2 * sizeClass(4 * P) + 2 * 256);
    expect(e.readback).toBe(4 * P);
    expect(e.total).toBe(e.params + e.grads + e.moments + e.activations + e.other + Math.max(e.generation, e.readback));
  });

  it('activations are activationBytes when every tensor is a whole pool size class', () => {
    // B=1, T=64: rows of 1, 8, 16, 32 and 64 floats are 256 B .. 16 KiB, all exact size classes.
    const cfg = tinyLlama({ V: 64, C: 16, F: 32, L: 2, NH: 4, NKV: 2, maxT: 64 });
    expect(estimateMemory(cfg, { batch: 1, seq: 64 }, SWIFTSHADER).activations).toBe(activationBytes(cfg, 1, 64));
    const gpt2 = tinyGpt2({ V: 64, C: 16, F: 32, L: 3, NH: 4, maxT: 64 });
    expect(estimateMemory(gpt2, { batch: 1, seq: 64 }, SWIFTSHADER).activations).toBe(activationBytes(gpt2, 1, 64));
  });

  it('with LoRA, gradients and moments cover the adapters only; the base parameters stay', () => {
    const cfg = tinyLlama({ V: 64, C: 32, F: 64, L: 2, NH: 4, NKV: 2, maxT: 64 });
    const lora = { rank: 4, alpha: 8, targets: ALL_LLAMA };
    const layout = paramLayout(cfg, lora);
    const PL = layout.lora!.totalElements;
    const e = estimateMemory(cfg, { batch: 2, seq: 32, lora }, SWIFTSHADER);
    expect(e.params).toBe(4 * layout.totalElements + 4 * PL);
    expect(e.grads).toBe(4 * PL);
    expect(e.moments).toBe(2 * sizeClass(4 * PL) + 2 * 256);
    const full = estimateMemory(cfg, { batch: 2, seq: 32 }, SWIFTSHADER);
    expect(e.grads).toBeLessThan(full.grads / 4);
  });

  it('generation only: no gradients, moments or readback', () => {
    const e = estimateMemory(defaultModel, { batch: 4, seq: 128, train: false }, SWIFTSHADER);
    expect([e.grads, e.moments, e.readback]).toEqual([0, 0, 0]);
    expect(e.total).toBe(e.params + e.activations + e.other + e.generation);
  });

  it('the KV cache grows with batch × seq: 2·L buffers of (B, NKV, T, HS)', () => {
    const { L, NKV, HS } = defaultModel;
    const a = estimateMemory(defaultModel, { batch: 4, seq: 128 }, SWIFTSHADER);
    const b = estimateMemory(defaultModel, { batch: 8, seq: 128 }, SWIFTSHADER);
    expect(b.generation - a.generation).toBeGreaterThanOrEqual(2 * L * (sizeClass(4 * 8 * NKV * 128 * HS) - sizeClass(4 * 4 * NKV * 128 * HS)));
  });

  it('generating more rows than the batch counts the KV cache for them, and the prefill part logits', () => {
    const { L, NKV, HS, V } = defaultModel;
    const a = estimateMemory(defaultModel, { batch: 4, seq: 128 }, SWIFTSHADER);
    const b = estimateMemory(defaultModel, { batch: 4, seq: 128, genRows: 16 }, SWIFTSHADER);
    expect([a.genRows, b.genRows]).toEqual([4, 16]);
    expect(b.activations).toBe(a.activations); // the training batch is the same
    expect(b.generation - a.generation).toBeGreaterThanOrEqual(2 * L * (sizeClass(4 * 16 * NKV * 128 * HS) - sizeClass(4 * 4 * NKV * 128 * HS)) + sizeClass(4 * 4 * V));
    expect(() => estimateMemory(defaultModel, { batch: 4, seq: 128, genRows: 3 }, SWIFTSHADER)).toThrow('genRows must be an integer of at least batch (4), got 3');
  });

  it('fitGenRows takes the most rows (wanted, then halves) that fit the budget, and never fewer than the batch', () => {
    const plan = { batch: 4, seq: 640 };
    expect(fitGenRows(defaultModel, plan, SWIFTSHADER, 64)).toBe(64); // no budget: only single buffers are checked
    const at = (rows: number) => estimateMemory(defaultModel, { ...plan, genRows: rows }, SWIFTSHADER).total;
    // A budget between what 16 and 32 rows take: 32 does not fit, 16 does.
    const limits = { ...SWIFTSHADER, budgetBytes: (at(16) + at(32)) / 2 };
    expect(fitGenRows(defaultModel, plan, limits, 64)).toBe(16);
    expect(fitGenRows(defaultModel, plan, { ...SWIFTSHADER, budgetBytes: at(4) }, 64)).toBe(4);
    expect(fitGenRows(defaultModel, plan, limits, 2)).toBe(4);
  });

  it('names the largest buffer and binding: full fine-tuning binds the flat buffers whole', () => {
    const e = estimateMemory(defaultModel, { batch: 2, seq: 64 }, SWIFTSHADER);
    const P = paramLayout(defaultModel).totalElements;
    expect(e.largestBinding).toBe(4 * P);
    expect(e.largestBuffer).toBe(sizeClass(4 * P)); // AdamW's m and v come from the pool
    expect(e.largestBufferWhat).toBe('AdamW m');
    const big = estimateMemory(defaultModel, { batch: 64, seq: 640, lora: { rank: 8, alpha: 16, targets: ALL_LLAMA } }, SWIFTSHADER);
    // F = 384 > V = 260: the MLP's activations are the largest tensors here.
    expect(big.largestBindingWhat).toBe(`the activations gate (${64 * 640} tokens × 384)`);
    expect(big.largestBinding).toBe(4 * 64 * 640 * 384);
  });
});

describe('the default model (public/models/plantune-tiny)', () => {
  it('has 1.25M parameters and trains at batch 8 × seq 256 in a few tens of MiB', () => {
    expect(countText(paramLayout(defaultModel).numParams)).toBe('1.25M');
    const e = estimateMemory(defaultModel, { batch: 8, seq: 256 }, memoryLimits({ limits: SWIFTSHADER }, 16));
    console.log(`default model, batch 8 × seq 256, full: ${bytesText(e.total)} (params ${bytesText(e.params)}, activations ${bytesText(e.activations)}, generation ${bytesText(e.generation)})`);
    expect(e.fits).toBe(true);
    expect(e.problems).toEqual([]);
    expect(e.total).toBeGreaterThan(20 * MiB);
    expect(e.total).toBeLessThan(200 * MiB);
  });

  it('refuses a plan whose activations exceed maxBufferSize, saying to lower batch or seq', () => {
    const limits = { maxBufferSize: 256 * MiB, maxStorageBufferBindingSize: 128 * MiB };
    const e = estimateMemory(defaultModel, { batch: 512, seq: 640, train: false }, limits);
    expect(e.fits).toBe(false);
    // gate, up, h, dgate, dup, dh (N×F) of every layer and the logits (N×V, 325 MiB in a 352 MiB size class).
    // ... and those over one binding (128 MiB here): kernels other than the linears bind activations whole.
    expect(e.problems).toEqual([
      'batch 512 × seq 640 needs 480.0 MiB for the activations gate (327680 tokens × 384) in one buffer (and 21 more buffers over the limit); ' +
        'this adapter\'s maxBufferSize is 256.0 MiB: lower batch or seq',
      'batch 512 × seq 640 needs 480.0 MiB for the activations gate (327680 tokens × 384), which kernels bind whole (and 63 more over the limit); ' +
        'this adapter binds at most 128.0 MiB at once (maxStorageBufferBindingSize): lower batch or seq',
    ]);
    expect(() => assertFits(defaultModel, { batch: 512, seq: 640, train: false }, limits)).toThrow(/^this run does not fit: batch 512 × seq 640 needs 480.0 MiB/);
    expect(estimateMemory(defaultModel, { batch: 64, seq: 640, train: false }, limits).fits).toBe(true);
  });

  it('refuses a plan over the budget with its parts and what to reduce', () => {
    const limits = memoryLimits({ limits: SWIFTSHADER }, 2); // a 2 GiB machine: 1 GiB budget
    const e = estimateMemory(defaultModel, { batch: 64, seq: 640 }, limits);
    expect(e.fits).toBe(false);
    const msg = e.problems.find((p) => p.includes('the budget'));
    expect(msg).toMatch(/^batch 64 × seq 640 with full fine-tuning needs \d+\.\d GiB of GPU memory \(parameters 4\.8 MiB, gradients 4\.8 MiB, AdamW moments .*, activations \d+\.\d GiB, .*\); the budget is 1\.0 GiB \(half of the 2 GiB of memory the browser reports\): /);
    expect(msg).toMatch(/lower batch or seq \(\d+\.\d GiB grows with batch × seq\)/);
    expect(msg).toContain('use LoRA');
    expect(assertFits(defaultModel, { batch: 4, seq: 256 }, limits).fits).toBe(true);
  });

  it('refuses seq beyond the context', () => {
    const e = estimateMemory(defaultModel, { batch: 1, seq: 1024 }, SWIFTSHADER);
    expect(e.problems).toEqual(['seq 1024 exceeds the model\'s context of 640 tokens: lower seq']);
  });
});

describe('a 494M-parameter model (Qwen2.5-0.5B)', () => {
  const qwenParams = paramLayout(qwen05).numParams;

  it('is counted as 494M parameters', () => {
    expect(countText(qwenParams)).toBe('494M');
  });

  it('cannot fit one 1 GiB buffer: a smaller model is the only cure', () => {
    const e = estimateMemory(qwen05, { batch: 1, seq: 128, lora: { rank: 8, alpha: 16, targets: ALL_LLAMA } }, SWIFTSHADER);
    expect(e.problems).toEqual(['the 494M parameters take one 1.8 GiB buffer; this adapter\'s maxBufferSize is 1.0 GiB: choose a smaller model']);
  });

  it('full fine-tuning is over an 8 GiB budget, LoRA fits; tensors bound in pieces are notes, activations over a binding are refused', () => {
    const limits = { maxBufferSize: 4 * GiB, maxStorageBufferBindingSize: 128 * MiB, budgetBytes: 8 * GiB, budgetNote: 'a test budget' };
    const full = estimateMemory(qwen05, { batch: 2, seq: 256 }, limits);
    expect(full.fits).toBe(false);
    expect(full.problems).toHaveLength(1);
    expect(full.problems[0]).toMatch(/^batch 2 × seq 256 with full fine-tuning needs \d+\.\d GiB of GPU memory \(parameters 1\.8 GiB, gradients 1\.8 GiB, AdamW moments 3\.8 GiB, /);
    expect(full.problems[0]).toContain('the budget is 8.0 GiB (a test budget): use LoRA (frees most of the 5.6 GiB of gradients and moments)');

    const lora = estimateMemory(qwen05, { batch: 2, seq: 256, lora: { rank: 8, alpha: 16, targets: ALL_LLAMA } }, limits);
    expect(lora.fits).toBe(true);
    expect(lora.total).toBeLessThan(full.total - 5 * GiB);
    // The embedding table (V×C, 519 MiB) is bound by the embedding and the LM head: split, not refused.
    expect(lora.largestBinding).toBe(4 * 151936 * 896);
    expect(lora.largestBindingWhat).toBe('the largest tensor of the parameters');
    expect(lora.bindingNotes).toEqual([
      'the largest tensor of the parameters (519.3 MiB) is larger than one binding (128.0 MiB on this adapter): kernels bind it in pieces',
      'the logits (512 tokens × 151936 vocab) (296.8 MiB) is larger than one binding (128.0 MiB on this adapter): kernels bind it in pieces',
    ]);
    // 16 × 512 tokens: the MLP activations (8192 × 4864, 152 MiB; gate, up, h of 24 layers, dgate, dup, dh) are bound whole by the SwiGLU kernels.
    const wide = estimateMemory(qwen05, { batch: 16, seq: 512, lora: { rank: 8, alpha: 16, targets: ALL_LLAMA } }, { ...limits, maxBufferSize: 16 * GiB, budgetBytes: undefined });
    expect(wide.problems).toEqual([
      'batch 16 × seq 512 needs 152.0 MiB for the activations gate (8192 tokens × 4864), which kernels bind whole (and 74 more over the limit); ' +
        'this adapter binds at most 128.0 MiB at once (maxStorageBufferBindingSize): lower batch or seq',
    ]);
  });
});

describe('inputs and helpers', () => {
  it('rejects a batch or seq that is not a positive integer, and bad LoRA settings', () => {
    expect(() => estimateMemory(defaultModel, { batch: 0, seq: 64 }, SWIFTSHADER)).toThrow('batch must be a positive integer, got 0');
    expect(() => estimateMemory(defaultModel, { batch: 2, seq: 6.5 }, SWIFTSHADER)).toThrow('seq must be a positive integer, got 6.5');
    expect(() => estimateMemory(defaultModel, { batch: 2, seq: 64, lora: { rank: 4, alpha: 8, targets: ['c_attn'] } }, SWIFTSHADER)).toThrow(/LoRA target "c_attn" matches no linear module/);
  });

  it('memoryLimits: half of navigator.deviceMemory, or no budget without it', () => {
    expect(memoryLimits({ limits: SWIFTSHADER }, 16)).toEqual({ ...SWIFTSHADER, budgetBytes: 8 * GiB, budgetNote: 'half of the 16 GiB of memory the browser reports' });
    expect(memoryLimits({ limits: SWIFTSHADER }, undefined)).toEqual(SWIFTSHADER);
  });

  it('formats bytes and counts', () => {
    expect([bytesText(512), bytesText(1536), bytesText(3.1 * GiB)]).toEqual(['512 B', '1.5 KiB', '3.1 GiB']);
    expect([countText(999), countText(12_345), countText(1_250_000), countText(1_100_048_384)]).toEqual(['999', '12.3K', '1.25M', '1.1B']);
  });
});
