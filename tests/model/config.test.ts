import { describe, expect, it } from 'vitest';
import { type ModelConfig, ModelConfigError, parseHfConfig, tinyGpt2, tinyLlama, toHfConfig } from '../../src/model/config';
import { ALIGN, fromHfTensor, hfTensors, intoHfTensor, paramLayout, tensorSpec, view } from '../../src/model/param-layout';
import { rng } from '../helpers/random';

// config.json files as published on the Hugging Face hub (values as known; irrelevant keys kept
// in some to show they are tolerated).
const SMOLLM2_135M = {
  architectures: ['LlamaForCausalLM'],
  attention_bias: false,
  attention_dropout: 0.0,
  bos_token_id: 0,
  eos_token_id: 0,
  hidden_act: 'silu',
  hidden_size: 576,
  initializer_range: 0.041666666666666664,
  intermediate_size: 1536,
  is_llama_config: true,
  max_position_embeddings: 8192,
  mlp_bias: false,
  model_type: 'llama',
  num_attention_heads: 9,
  num_hidden_layers: 30,
  num_key_value_heads: 3,
  pretraining_tp: 1,
  rms_norm_eps: 1e-5,
  rope_interleaved: false,
  rope_scaling: null,
  rope_theta: 100000,
  tie_word_embeddings: true,
  torch_dtype: 'bfloat16',
  transformers_version: '4.42.3',
  use_cache: true,
  vocab_size: 49152,
};

const QWEN25_05B = {
  architectures: ['Qwen2ForCausalLM'],
  attention_dropout: 0.0,
  bos_token_id: 151643,
  eos_token_id: 151643,
  hidden_act: 'silu',
  hidden_size: 896,
  initializer_range: 0.02,
  intermediate_size: 4864,
  max_position_embeddings: 32768,
  max_window_layers: 24,
  model_type: 'qwen2',
  num_attention_heads: 14,
  num_hidden_layers: 24,
  num_key_value_heads: 2,
  rms_norm_eps: 1e-6,
  rope_theta: 1000000.0,
  sliding_window: 32768,
  tie_word_embeddings: true,
  torch_dtype: 'bfloat16',
  transformers_version: '4.40.1',
  use_cache: true,
  use_sliding_window: false,
  vocab_size: 151936,
};

const TINYLLAMA_11B = {
  architectures: ['LlamaForCausalLM'],
  attention_bias: false,
  bos_token_id: 1,
  eos_token_id: 2,
  hidden_act: 'silu',
  hidden_size: 2048,
  initializer_range: 0.02,
  intermediate_size: 5632,
  max_position_embeddings: 2048,
  model_type: 'llama',
  num_attention_heads: 32,
  num_hidden_layers: 22,
  num_key_value_heads: 4,
  pretraining_tp: 1,
  rms_norm_eps: 1e-5,
  rope_scaling: null,
  rope_theta: 10000.0,
  tie_word_embeddings: false,
  torch_dtype: 'bfloat16',
  transformers_version: '4.35.0',
  use_cache: true,
  vocab_size: 32000,
};

const MISTRAL_7B = {
  architectures: ['MistralForCausalLM'],
  bos_token_id: 1,
  eos_token_id: 2,
  hidden_act: 'silu',
  hidden_size: 4096,
  initializer_range: 0.02,
  intermediate_size: 14336,
  max_position_embeddings: 32768,
  model_type: 'mistral',
  num_attention_heads: 32,
  num_hidden_layers: 32,
  num_key_value_heads: 8,
  rms_norm_eps: 1e-5,
  rope_theta: 10000.0,
  sliding_window: 4096,
  tie_word_embeddings: false,
  torch_dtype: 'bfloat16',
  transformers_version: '4.34.0.dev0',
  use_cache: true,
  vocab_size: 32000,
};

const GPT2 = {
  activation_function: 'gelu_new',
  architectures: ['GPT2LMHeadModel'],
  attn_pdrop: 0.1,
  bos_token_id: 50256,
  embd_pdrop: 0.1,
  eos_token_id: 50256,
  initializer_range: 0.02,
  layer_norm_epsilon: 1e-5,
  model_type: 'gpt2',
  n_ctx: 1024,
  n_embd: 768,
  n_head: 12,
  n_layer: 12,
  n_positions: 1024,
  resid_pdrop: 0.1,
  summary_activation: null,
  summary_first_dropout: 0.1,
  summary_proj_to_labels: true,
  summary_type: 'cls_index',
  summary_use_proj: true,
  task_specific_params: { 'text-generation': { do_sample: true, max_length: 50 } },
  vocab_size: 50257,
};

const REAL: [string, Record<string, unknown>, number][] = [
  ['SmolLM2-135M', SMOLLM2_135M, 134_515_008],
  ['Qwen2.5-0.5B', QWEN25_05B, 494_032_768],
  ['TinyLlama-1.1B', TINYLLAMA_11B, 1_100_048_384],
  ['Mistral-7B-v0.1', MISTRAL_7B, 7_241_732_096],
  ['gpt2', GPT2, 124_439_808],
];

function with_(base: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> {
  return { ...base, ...patch };
}

describe('parseHfConfig on real config.json files', () => {
  it('SmolLM2-135M: llama, GQA 9/3, tied, no biases', () => {
    expect(parseHfConfig(SMOLLM2_135M)).toEqual({
      architecture: 'LlamaForCausalLM', modelType: 'llama', family: 'llama',
      V: 49152, C: 576, L: 30, NH: 9, NKV: 3, HS: 64, F: 1536, maxT: 8192, maxPositions: 8192, slidingWindow: null,
      normEps: 1e-5, ropeTheta: 100000, tiedEmbeddings: true, attnBias: false, oBias: false, mlpBias: false,
      norm: 'rmsnorm', activation: 'swiglu', positions: 'rope', bosTokenId: 0, eosTokenIds: [0],
    } satisfies ModelConfig);
  });

  it('Qwen2.5-0.5B: q/k/v biases but no o bias, GQA 14/2, tied, rope_theta 1e6', () => {
    const c = parseHfConfig(QWEN25_05B);
    expect([c.family, c.modelType, c.C, c.L, c.NH, c.NKV, c.HS, c.F, c.V]).toEqual(['llama', 'qwen2', 896, 24, 14, 2, 64, 4864, 151936]);
    expect([c.attnBias, c.oBias, c.mlpBias, c.tiedEmbeddings, c.ropeTheta, c.normEps, c.maxT]).toEqual([true, false, false, true, 1e6, 1e-6, 32768]);
  });

  it('TinyLlama-1.1B: untied, GQA 32/4', () => {
    const c = parseHfConfig(TINYLLAMA_11B);
    expect([c.C, c.L, c.NH, c.NKV, c.HS, c.F, c.tiedEmbeddings, c.bosTokenId, c.eosTokenIds]).toEqual([2048, 22, 32, 4, 64, 5632, false, 1, [2]]);
  });

  it('Mistral-7B-v0.1: the 4096 sliding window caps maxT (exact below it), 32768 kept for export', () => {
    const c = parseHfConfig(MISTRAL_7B);
    expect([c.modelType, c.C, c.NKV, c.F, c.maxT, c.maxPositions, c.slidingWindow]).toEqual(['mistral', 4096, 8, 14336, 4096, 32768, 4096]);
    expect(parseHfConfig(with_(MISTRAL_7B, { sliding_window: null })).maxT).toBe(32768);
  });

  it('gpt2: layernorm, learned positions, gelu_new, biases everywhere, F = 4C, always tied by default', () => {
    expect(parseHfConfig(GPT2)).toEqual({
      architecture: 'GPT2LMHeadModel', modelType: 'gpt2', family: 'gpt2',
      V: 50257, C: 768, L: 12, NH: 12, NKV: 12, HS: 64, F: 3072, maxT: 1024, maxPositions: 1024, slidingWindow: null,
      normEps: 1e-5, ropeTheta: 0, tiedEmbeddings: true, attnBias: true, oBias: true, mlpBias: true,
      norm: 'layernorm', activation: 'gelu_tanh', positions: 'learned', bosTokenId: 50256, eosTokenIds: [50256],
    } satisfies ModelConfig);
    expect(parseHfConfig(with_(GPT2, { n_inner: 1000 })).F).toBe(1000);
  });

  it('applies transformers defaults for omitted fields and accepts a list of eos ids', () => {
    const { num_key_value_heads: _nkv, rope_theta: _rt, rms_norm_eps: _eps, ...rest } = TINYLLAMA_11B;
    const c = parseHfConfig({ ...rest, eos_token_id: [2, 7] });
    expect([c.NKV, c.ropeTheta, c.normEps, c.eosTokenIds]).toEqual([32, 10000, 1e-6, [2, 7]]);
    const { architectures: _a, ...noArch } = SMOLLM2_135M;
    expect(parseHfConfig(noArch).architecture).toBe('LlamaForCausalLM');
  });

  it('reads rope_theta from transformers 5 rope_parameters', () => {
    expect(parseHfConfig(with_(TINYLLAMA_11B, { rope_parameters: { rope_type: 'default', rope_theta: 500000 } })).ropeTheta).toBe(500000);
  });

  it('llama attention_bias puts biases on q, k, v and o; mlp_bias on the MLP', () => {
    const c = parseHfConfig(with_(TINYLLAMA_11B, { attention_bias: true, mlp_bias: true }));
    expect([c.attnBias, c.oBias, c.mlpBias]).toEqual([true, true, true]);
  });
});

describe('parseHfConfig errors name the field and the value', () => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['unsupported architecture', with_(TINYLLAMA_11B, { architectures: ['PhiForCausalLM'] }), /architectures \["PhiForCausalLM"\]/],
    ['model_type mismatch', with_(TINYLLAMA_11B, { model_type: 'mistral' }), /model_type "mistral" does not match architecture LlamaForCausalLM/],
    ['rope_scaling', with_(TINYLLAMA_11B, { rope_scaling: { rope_type: 'llama3', factor: 8 } }), /rope_scaling \{"rope_type":"llama3","factor":8\}/],
    ['rope_parameters type', with_(TINYLLAMA_11B, { rope_parameters: { rope_type: 'yarn', rope_theta: 1e4 } }), /rope_parameters.rope_type "yarn"/],
    ['qwen2 sliding window', with_(QWEN25_05B, { use_sliding_window: true }), /use_sliding_window true/],
    ['llama hidden_act', with_(TINYLLAMA_11B, { hidden_act: 'gelu' }), /hidden_act "gelu"/],
    ['mistral hidden_act', with_(MISTRAL_7B, { hidden_act: 'relu' }), /hidden_act "relu"/],
    ['gpt2 activation', with_(GPT2, { activation_function: 'relu' }), /activation_function "relu"/],
    ['gpt2 inverse layer scaling', with_(GPT2, { scale_attn_by_inverse_layer_idx: true }), /scale_attn_by_inverse_layer_idx true/],
    ['gpt2 cross attention', with_(GPT2, { add_cross_attention: true }), /add_cross_attention true/],
    ['head_dim inconsistent', with_(MISTRAL_7B, { head_dim: 128, hidden_size: 5120 }), /head_dim 128 is inconsistent with hidden_size \/ num_attention_heads = 160/],
    ['heads do not divide hidden', with_(TINYLLAMA_11B, { num_attention_heads: 30 }), /hidden_size 2048 is not divisible by num_attention_heads 30/],
    ['kv heads do not divide heads', with_(TINYLLAMA_11B, { num_key_value_heads: 5 }), /num_key_value_heads 5 must divide num_attention_heads 32/],
    ['missing field', with_(TINYLLAMA_11B, { vocab_size: undefined }), /missing required field vocab_size/],
    ['non-integer size', with_(GPT2, { n_layer: 1.5 }), /n_layer must be a positive integer, got 1.5/],
    ['string size', with_(TINYLLAMA_11B, { hidden_size: '2048' }), /hidden_size must be a positive integer, got "2048"/],
    ['bad eps', with_(TINYLLAMA_11B, { rms_norm_eps: -1 }), /rms_norm_eps must be a positive number, got -1/],
    ['eos outside vocab', with_(GPT2, { eos_token_id: 60000 }), /special token id 60000 is outside the vocabulary/],
    ['bad tie flag', with_(TINYLLAMA_11B, { tie_word_embeddings: 'yes' }), /tie_word_embeddings must be true or false, got "yes"/],
    ['odd head size with RoPE', with_(TINYLLAMA_11B, { hidden_size: 96, num_attention_heads: 32, num_key_value_heads: 4 }), /head size 3 must be even for RoPE/],
  ];
  for (const [what, json, msg] of cases) {
    it(what, () => {
      expect(() => parseHfConfig(json)).toThrow(ModelConfigError);
      expect(() => parseHfConfig(json)).toThrow(msg);
    });
  }
  it('not an object', () => expect(() => parseHfConfig([1])).toThrow(/expected a JSON object/));
});

describe('toHfConfig', () => {
  const configs: [string, ModelConfig][] = [
    ...REAL.map(([name, json]): [string, ModelConfig] => [name, parseHfConfig(json)]),
    ['llama with attention/mlp bias, several eos', parseHfConfig(with_(TINYLLAMA_11B, { attention_bias: true, mlp_bias: true, eos_token_id: [2, 3] }))],
    ['gpt2 with n_inner, untied', parseHfConfig(with_(GPT2, { n_inner: 1000, tie_word_embeddings: false }))],
    ['tinyLlama', tinyLlama()],
    ['tinyLlama qwen2', tinyLlama({ architecture: 'Qwen2ForCausalLM', tied: true })],
    ['tinyLlama mistral', tinyLlama({ architecture: 'MistralForCausalLM' })],
    ['tinyGpt2', tinyGpt2()],
  ];
  for (const [name, cfg] of configs) {
    it(`round-trips ${name}`, () => {
      const hf = toHfConfig(cfg);
      expect(parseHfConfig(JSON.parse(JSON.stringify(hf)))).toEqual(cfg);
    });
  }

  it('writes the fields transformers reads for each architecture', () => {
    expect(toHfConfig(parseHfConfig(GPT2))).toMatchObject({
      architectures: ['GPT2LMHeadModel'], model_type: 'gpt2', n_embd: 768, n_layer: 12, n_head: 12, n_positions: 1024, n_inner: null,
      activation_function: 'gelu_new', layer_norm_epsilon: 1e-5, vocab_size: 50257, tie_word_embeddings: true, eos_token_id: 50256,
    });
    expect(toHfConfig(parseHfConfig(QWEN25_05B))).toMatchObject({
      architectures: ['Qwen2ForCausalLM'], model_type: 'qwen2', hidden_size: 896, num_key_value_heads: 2, rope_theta: 1e6, rms_norm_eps: 1e-6,
      use_sliding_window: false, tie_word_embeddings: true, hidden_act: 'silu', torch_dtype: 'float32',
    });
    expect(toHfConfig(parseHfConfig(MISTRAL_7B))).toMatchObject({ sliding_window: 4096, max_position_embeddings: 32768, head_dim: 128 });
    expect(toHfConfig(parseHfConfig(SMOLLM2_135M))).toMatchObject({ attention_bias: false, mlp_bias: false, rope_scaling: null, head_dim: 64 });
  });
});

describe('tiny presets', () => {
  it('tinyLlama and tinyGpt2 give small valid configs with overrides', () => {
    const l = tinyLlama({ C: 8, NH: 2, NKV: 1, V: 7, tied: true });
    expect([l.C, l.NH, l.NKV, l.HS, l.V, l.tiedEmbeddings, l.family]).toEqual([8, 2, 1, 4, 7, true, 'llama']);
    expect(tinyLlama({ architecture: 'Qwen2ForCausalLM' }).attnBias).toBe(true);
    const g = tinyGpt2({ C: 8, NH: 2 });
    expect([g.C, g.F, g.HS, g.family, g.tiedEmbeddings]).toEqual([8, 32, 4, 'gpt2', true]);
  });
});

describe('paramLayout', () => {
  for (const [name, json, count] of REAL) {
    it(`${name}: ${count.toLocaleString('en-US')} parameters, 256-byte aligned, no overlap, rank>=2 decays`, () => {
      const layout = paramLayout(parseHfConfig(json));
      expect(layout.numParams).toBe(count);
      let end = 0;
      let sum = 0;
      for (const t of layout.tensors) {
        expect(t.offset % ALIGN).toBe(0);
        expect(t.offset).toBeGreaterThanOrEqual(end);
        expect(t.size).toBe(t.shape.reduce((a, b) => a * b, 1));
        expect(t.decay).toBe(t.shape.length >= 2);
        expect(t.trainable).toBe(true);
        end = t.offset + t.size;
        sum += t.size;
      }
      expect(sum).toBe(count);
      expect(layout.totalElements).toBeGreaterThanOrEqual(end);
      expect(layout.totalElements % ALIGN).toBe(0);
      expect(new Set(layout.tensors.map((t) => t.name)).size).toBe(layout.tensors.length);
      // Every HF tensor is covered exactly once by its parts.
      const hf = hfTensors(layout.tensors);
      expect(hf.reduce((a, h) => a + h.hfShape.reduce((x, y) => x * y, 1), 0)).toBe(count);
      for (const h of hf) expect(h.parts.reduce((a, t) => a + t.size, 0)).toBe(h.hfShape.reduce((x, y) => x * y, 1));
    });
  }

  it('Llama-family names map one-to-one onto HF names', () => {
    const layout = paramLayout(parseHfConfig(TINYLLAMA_11B));
    const table = Object.fromEntries(layout.tensors.filter((t) => !t.name.startsWith('h.') || t.name.startsWith('h.0.')).map((t) => [t.name, [t.hfName, t.shape.join('x')]]));
    expect(table).toEqual({
      wte: ['model.embed_tokens.weight', '32000x2048'],
      'h.0.ln1.w': ['model.layers.0.input_layernorm.weight', '2048'],
      'h.0.attn.q.w': ['model.layers.0.self_attn.q_proj.weight', '2048x2048'],
      'h.0.attn.k.w': ['model.layers.0.self_attn.k_proj.weight', '256x2048'],
      'h.0.attn.v.w': ['model.layers.0.self_attn.v_proj.weight', '256x2048'],
      'h.0.attn.o.w': ['model.layers.0.self_attn.o_proj.weight', '2048x2048'],
      'h.0.ln2.w': ['model.layers.0.post_attention_layernorm.weight', '2048'],
      'h.0.mlp.gate.w': ['model.layers.0.mlp.gate_proj.weight', '5632x2048'],
      'h.0.mlp.up.w': ['model.layers.0.mlp.up_proj.weight', '5632x2048'],
      'h.0.mlp.down.w': ['model.layers.0.mlp.down_proj.weight', '2048x5632'],
      'lnf.w': ['model.norm.weight', '2048'],
      'lm_head.w': ['lm_head.weight', '32000x2048'],
    });
    expect(layout.tensors.every((t) => t.hfSlice === null && !t.hfTranspose && t.hfShape.join() === t.shape.join())).toBe(true);
    const qwen = paramLayout(parseHfConfig(QWEN25_05B));
    expect(['h.3.attn.q.b', 'h.3.attn.k.b', 'h.3.attn.v.b'].map((n) => tensorSpec(qwen, n).hfName)).toEqual([
      'model.layers.3.self_attn.q_proj.bias', 'model.layers.3.self_attn.k_proj.bias', 'model.layers.3.self_attn.v_proj.bias',
    ]);
    expect(qwen.byName.has('h.3.attn.o.b')).toBe(false);
    expect(qwen.byName.has('lm_head.w')).toBe(false);
    expect(() => tensorSpec(qwen, 'h.3.attn.o.b')).toThrow(/no parameter named "h.3.attn.o.b"/);
  });

  it('GPT-2 splits c_attn into q, k, v and transposes Conv1D weights', () => {
    const layout = paramLayout(parseHfConfig(GPT2));
    const row = (n: string) => {
      const t = tensorSpec(layout, n);
      return [t.hfName, t.shape.join('x'), t.hfShape.join('x'), t.hfSlice ? `${t.hfSlice.dim}:${t.hfSlice.start}-${t.hfSlice.end}` : '-', t.hfTranspose];
    };
    expect(['wte', 'wpe', 'h.0.ln1.w', 'h.0.ln1.b', 'h.0.attn.q.w', 'h.0.attn.k.w', 'h.0.attn.v.b', 'h.0.attn.o.w', 'h.0.attn.o.b', 'h.0.ln2.w', 'h.0.mlp.fc.w', 'h.0.mlp.fc.b', 'h.0.mlp.proj.w', 'lnf.b'].map(row)).toEqual([
      ['transformer.wte.weight', '50257x768', '50257x768', '-', false],
      ['transformer.wpe.weight', '1024x768', '1024x768', '-', false],
      ['transformer.h.0.ln_1.weight', '768', '768', '-', false],
      ['transformer.h.0.ln_1.bias', '768', '768', '-', false],
      ['transformer.h.0.attn.c_attn.weight', '768x768', '768x2304', '1:0-768', true],
      ['transformer.h.0.attn.c_attn.weight', '768x768', '768x2304', '1:768-1536', true],
      ['transformer.h.0.attn.c_attn.bias', '768', '2304', '0:1536-2304', false],
      ['transformer.h.0.attn.c_proj.weight', '768x768', '768x768', '-', true],
      ['transformer.h.0.attn.c_proj.bias', '768', '768', '-', false],
      ['transformer.h.0.ln_2.weight', '768', '768', '-', false],
      ['transformer.h.0.mlp.c_fc.weight', '3072x768', '768x3072', '-', true],
      ['transformer.h.0.mlp.c_fc.bias', '3072', '3072', '-', false],
      ['transformer.h.0.mlp.c_proj.weight', '768x3072', '3072x768', '-', true],
      ['transformer.ln_f.bias', '768', '768', '-', false],
    ]);
    expect(layout.hfBasePrefix).toBe('transformer.');
    // 148 HF tensors: wte, wpe, 12 per block, ln_f weight and bias.
    expect(hfTensors(layout.tensors).length).toBe(148);
  });

  it('fromHfTensor/intoHfTensor: Conv1D y = x·W + b equals our q, k, v linears, and the split round-trips', () => {
    const cfg = tinyGpt2({ C: 8, NH: 2 });
    const layout = paramLayout(cfg);
    const { C } = cfg;
    const r = rng(5);
    const cAttnW = Float64Array.from({ length: C * 3 * C }, () => r() - 0.5); // (C, 3C)
    const cAttnB = Float64Array.from({ length: 3 * C }, () => r() - 0.5);
    const x = Float64Array.from({ length: C }, () => r() - 0.5);
    const rebuiltW = new Float64Array(cAttnW.length);
    const rebuiltB = new Float64Array(cAttnB.length);
    ['q', 'k', 'v'].forEach((part, p) => {
      const wSpec = tensorSpec(layout, `h.1.attn.${part}.w`);
      const bSpec = tensorSpec(layout, `h.1.attn.${part}.b`);
      const W = new Float64Array(wSpec.size);
      const b = new Float64Array(bSpec.size);
      fromHfTensor(wSpec, cAttnW, W);
      fromHfTensor(bSpec, cAttnB, b);
      for (let o = 0; o < C; o++) {
        let ours = b[o];
        for (let i = 0; i < C; i++) ours += x[i] * W[o * C + i]; // y = x·Wᵀ + b, W (out, in)
        let conv = cAttnB[p * C + o];
        for (let i = 0; i < C; i++) conv += x[i] * cAttnW[i * 3 * C + p * C + o]; // Conv1D: y = x·W + b, W (in, out)
        expect(ours).toBeCloseTo(conv, 14);
      }
      intoHfTensor(wSpec, W, rebuiltW);
      intoHfTensor(bSpec, b, rebuiltB);
    });
    expect(rebuiltW).toEqual(cAttnW);
    expect(rebuiltB).toEqual(cAttnB);
    expect(() => fromHfTensor(tensorSpec(layout, 'h.1.attn.q.w'), new Float64Array(5), new Float64Array(C * C))).toThrow(/transformer.h.1.attn.c_attn.weight: expected 192 elements/);
  });

  it('views address the flat buffer', () => {
    const layout = paramLayout(tinyLlama());
    const buf = new Float32Array(layout.totalElements);
    const t = tensorSpec(layout, 'h.1.attn.k.w');
    view(buf, t).fill(3);
    expect(buf[t.offset]).toBe(3);
    expect(buf[t.offset + t.size - 1]).toBe(3);
    expect(buf[t.offset + t.size]).toBe(0);
  });
});

describe('LoRA layout', () => {
  it('SmolLM2-135M q_proj+v_proj r=8: 460,800 trainable, PEFT names, base frozen', () => {
    const layout = paramLayout(parseHfConfig(SMOLLM2_135M), { rank: 8, alpha: 16, targets: ['q_proj', 'v_proj'] });
    const lora = layout.lora!;
    expect(lora.numParams).toBe(460_800);
    expect(lora.scale).toBe(2);
    expect(lora.adapters.length).toBe(60);
    expect(layout.tensors.every((t) => !t.trainable)).toBe(true);
    const v0 = lora.adapters[1];
    expect([v0.module, v0.A.hfName, v0.A.shape, v0.B.hfName, v0.B.shape, v0.parts]).toEqual([
      'model.layers.0.self_attn.v_proj',
      'base_model.model.model.layers.0.self_attn.v_proj.lora_A.weight', [8, 576],
      'base_model.model.model.layers.0.self_attn.v_proj.lora_B.weight', [192, 8],
      [{ param: 'h.0.attn.v.w', rowStart: 0, rows: 192 }],
    ]);
    for (const t of lora.tensors) {
      expect(t.offset % ALIGN).toBe(0);
      expect([t.trainable, t.decay]).toEqual([true, true]);
    }
  });

  it('GPT-2 c_attn r=8: 294,912 trainable; one adapter feeds q, k, v by rows of B', () => {
    const lora = paramLayout(parseHfConfig(GPT2), { rank: 8, alpha: 32, targets: ['c_attn'] }).lora!;
    expect(lora.numParams).toBe(294_912);
    expect(lora.adapters[0].B.hfName).toBe('base_model.model.transformer.h.0.attn.c_attn.lora_B.weight');
    expect(lora.adapters[0].parts).toEqual([
      { param: 'h.0.attn.q.w', rowStart: 0, rows: 768 },
      { param: 'h.0.attn.k.w', rowStart: 768, rows: 768 },
      { param: 'h.0.attn.v.w', rowStart: 1536, rows: 768 },
    ]);
  });

  it('targets match like PEFT target_modules: a leaf name matches every module ending in it', () => {
    const cfg = tinyGpt2();
    expect(paramLayout(cfg, { rank: 2, alpha: 2, targets: ['c_proj'] }).lora!.adapters.map((a) => a.module)).toEqual([
      'transformer.h.0.attn.c_proj', 'transformer.h.0.mlp.c_proj', 'transformer.h.1.attn.c_proj', 'transformer.h.1.mlp.c_proj',
    ]);
    expect(paramLayout(cfg, { rank: 2, alpha: 2, targets: ['mlp.c_proj'] }).lora!.adapters.map((a) => a.A.name)).toEqual(['h.0.lora.mlp.c_proj.A', 'h.1.lora.mlp.c_proj.A']);
    expect(() => paramLayout(cfg, { rank: 2, alpha: 2, targets: ['q_proj'] })).toThrow(/LoRA target "q_proj" matches no linear module of GPT2LMHeadModel; valid: c_attn, c_proj, c_fc/);
    expect(() => paramLayout(cfg, { rank: 0, alpha: 2, targets: ['c_fc'] })).toThrow(/rank must be a positive integer/);
  });
});
