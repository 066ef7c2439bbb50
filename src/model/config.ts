// ModelConfig: one normalised description of a decoder-only transformer, parsed from a
// Hugging Face `config.json` (LlamaForCausalLM, Qwen2ForCausalLM, MistralForCausalLM,
// GPT2LMHeadModel), and written back as a config.json that transformers loads.
//
// Dimension names are fixed across Plantune: V vocab, C hidden, L layers, NH query heads,
// NKV key/value heads, HS head size, F MLP hidden size, T sequence length.
// Anything the math below does not implement exactly (rope scaling, a sliding window that
// bites, other activations) is refused with an error naming the field and its value, so a
// model is never silently computed wrong.

export type Architecture = 'LlamaForCausalLM' | 'Qwen2ForCausalLM' | 'MistralForCausalLM' | 'GPT2LMHeadModel';
export type ModelType = 'llama' | 'qwen2' | 'mistral' | 'gpt2';
export type Family = 'llama' | 'gpt2';

export interface ModelConfig {
  /** The HF class name, written back to `architectures` on export. */
  architecture: Architecture;
  modelType: ModelType;
  /** 'llama': RMSNorm, RoPE, SwiGLU (Llama, SmolLM, TinyLlama, Qwen2, Mistral). 'gpt2': LayerNorm, learned positions, GELU-tanh. */
  family: Family;
  V: number;
  C: number;
  L: number;
  NH: number;
  NKV: number;
  HS: number;
  F: number;
  /** Longest sequence computed exactly: max_position_embeddings / n_positions, capped by Mistral's sliding window. */
  maxT: number;
  /** max_position_embeddings / n_positions as in the HF config (kept for export). */
  maxPositions: number;
  /** Mistral's attention window (null = none). Attention is exact for T <= window, hence maxT <= window. */
  slidingWindow: number | null;
  normEps: number;
  /** RoPE base; 0 when positions are learned (gpt2). */
  ropeTheta: number;
  /** LM head shares the token embedding (no separate lm_head tensor). */
  tiedEmbeddings: boolean;
  /** Biases on the q, k, v projections (qwen2, llama attention_bias, gpt2). */
  attnBias: boolean;
  /** Bias on the attention output projection (llama attention_bias, gpt2; not qwen2). */
  oBias: boolean;
  /** Biases on the MLP linears (gpt2, llama mlp_bias). */
  mlpBias: boolean;
  norm: 'rmsnorm' | 'layernorm';
  activation: 'swiglu' | 'gelu_tanh';
  positions: 'rope' | 'learned';
  bosTokenId: number | null;
  eosTokenIds: number[];
}

export class ModelConfigError extends Error {
  constructor(message: string) {
    super(`config.json: ${message}`);
    this.name = 'ModelConfigError';
  }
}

const ARCH_TYPE: Record<Architecture, ModelType> = {
  LlamaForCausalLM: 'llama',
  Qwen2ForCausalLM: 'qwen2',
  MistralForCausalLM: 'mistral',
  GPT2LMHeadModel: 'gpt2',
};

// Defaults of the transformers config classes, used when config.json omits a field.
const DEFAULTS: Record<ModelType, { normEps: number; ropeTheta: number; maxPositions: number; tied: boolean; bos: number | null; eos: number | null }> = {
  llama: { normEps: 1e-6, ropeTheta: 10000, maxPositions: 2048, tied: false, bos: 1, eos: 2 },
  qwen2: { normEps: 1e-6, ropeTheta: 10000, maxPositions: 32768, tied: false, bos: null, eos: null },
  mistral: { normEps: 1e-6, ropeTheta: 10000, maxPositions: 4096 * 32, tied: false, bos: 1, eos: 2 },
  gpt2: { normEps: 1e-5, ropeTheta: 0, maxPositions: 1024, tied: true, bos: 50256, eos: 50256 },
};

type Json = Record<string, unknown>;

function show(v: unknown): string {
  return JSON.stringify(v) ?? String(v);
}

function has(j: Json, key: string): boolean {
  return j[key] !== undefined && j[key] !== null;
}

function posInt(j: Json, key: string, fallback?: number): number {
  const v = has(j, key) ? j[key] : fallback;
  if (v === undefined) throw new ModelConfigError(`missing required field ${key}`);
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) throw new ModelConfigError(`${key} must be a positive integer, got ${show(v)}`);
  return v;
}

function posNum(j: Json, key: string, fallback: number): number {
  const v = has(j, key) ? j[key] : fallback;
  if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v)) throw new ModelConfigError(`${key} must be a positive number, got ${show(v)}`);
  return v;
}

function bool(j: Json, key: string, fallback: boolean): boolean {
  const v = has(j, key) ? j[key] : fallback;
  if (typeof v !== 'boolean') throw new ModelConfigError(`${key} must be true or false, got ${show(v)}`);
  return v;
}

function tokenId(j: Json, key: string, fallback: number | null): number | null {
  const v = key in j ? j[key] : fallback;
  if (v === null || v === undefined) return null;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new ModelConfigError(`${key} must be a token id, got ${show(v)}`);
  return v;
}

function tokenIds(j: Json, key: string, fallback: number | null): number[] {
  const v = key in j ? j[key] : fallback;
  if (v === null || v === undefined) return [];
  const list = Array.isArray(v) ? v : [v];
  for (const id of list) {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0) throw new ModelConfigError(`${key} must be a token id or a list of them, got ${show(v)}`);
  }
  return list as number[];
}

/** Refuse a field whose value would change the math we implement. */
function requireValue(j: Json, key: string, allowed: unknown[], why: string): void {
  if (!has(j, key)) return;
  if (!allowed.includes(j[key])) throw new ModelConfigError(`unsupported ${key} ${show(j[key])}: ${why}`);
}

function architectureOf(j: Json): Architecture {
  const archs = j.architectures;
  if (Array.isArray(archs) && archs.length > 0) {
    const a = archs[0];
    if (typeof a === 'string' && a in ARCH_TYPE) return a as Architecture;
    throw new ModelConfigError(`unsupported architectures ${show(archs)}; supported: ${Object.keys(ARCH_TYPE).join(', ')}`);
  }
  const byType = (Object.keys(ARCH_TYPE) as Architecture[]).find((a) => ARCH_TYPE[a] === j.model_type);
  if (byType) return byType;
  throw new ModelConfigError(`cannot tell the architecture: no architectures list and unsupported model_type ${show(j.model_type)}`);
}

/** Parse a Hugging Face config.json object (already JSON.parse'd). Throws ModelConfigError naming the offending field. */
export function parseHfConfig(json: unknown): ModelConfig {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new ModelConfigError(`expected a JSON object, got ${show(json)}`);
  const j = json as Json;
  const architecture = architectureOf(j);
  const modelType = ARCH_TYPE[architecture];
  if (has(j, 'model_type') && j.model_type !== modelType) {
    throw new ModelConfigError(`model_type ${show(j.model_type)} does not match architecture ${architecture} (expected "${modelType}")`);
  }
  const cfg = modelType === 'gpt2' ? parseGpt2(j) : parseLlamaFamily(j, architecture, modelType);
  validateModelConfig(cfg);
  return cfg;
}

function parseLlamaFamily(j: Json, architecture: Architecture, modelType: ModelType): ModelConfig {
  const d = DEFAULTS[modelType];
  requireValue(j, 'hidden_act', ['silu'], `${architecture} is implemented with SwiGLU (silu)`);
  requireValue(j, 'rope_scaling', [], 'only plain RoPE (rope_scaling null) is implemented');
  let ropeTheta = posNum(j, 'rope_theta', d.ropeTheta);
  if (has(j, 'rope_parameters')) {
    // transformers >= 5 keeps the RoPE settings in one object.
    const rp = j.rope_parameters as Json;
    if (has(rp, 'rope_type') && rp.rope_type !== 'default') throw new ModelConfigError(`unsupported rope_parameters.rope_type ${show(rp.rope_type)}: only "default" RoPE is implemented`);
    ropeTheta = posNum(rp, 'rope_theta', ropeTheta);
  }
  const C = posInt(j, 'hidden_size');
  const NH = posInt(j, 'num_attention_heads');
  const NKV = posInt(j, 'num_key_value_heads', NH);
  if (C % NH !== 0) throw new ModelConfigError(`hidden_size ${C} is not divisible by num_attention_heads ${NH}`);
  const HS = C / NH;
  if (has(j, 'head_dim') && j.head_dim !== HS) {
    throw new ModelConfigError(`head_dim ${show(j.head_dim)} is inconsistent with hidden_size / num_attention_heads = ${HS}`);
  }
  const maxPositions = posInt(j, 'max_position_embeddings', d.maxPositions);
  let slidingWindow: number | null = null;
  if (modelType === 'qwen2') {
    if (bool(j, 'use_sliding_window', false)) throw new ModelConfigError('unsupported use_sliding_window true: sliding-window attention is not implemented');
  } else if (modelType === 'mistral') {
    // Mistral applies the window whenever sliding_window is set; for T <= window it equals full causal attention.
    slidingWindow = has(j, 'sliding_window') ? posInt(j, 'sliding_window') : null;
  }
  const llama = modelType === 'llama';
  const attentionBias = llama && bool(j, 'attention_bias', false);
  return {
    architecture,
    modelType,
    family: 'llama',
    V: posInt(j, 'vocab_size'),
    C,
    L: posInt(j, 'num_hidden_layers'),
    NH,
    NKV,
    HS,
    F: posInt(j, 'intermediate_size'),
    maxT: slidingWindow === null ? maxPositions : Math.min(maxPositions, slidingWindow),
    maxPositions,
    slidingWindow,
    normEps: posNum(j, 'rms_norm_eps', d.normEps),
    ropeTheta,
    tiedEmbeddings: bool(j, 'tie_word_embeddings', d.tied),
    attnBias: modelType === 'qwen2' || attentionBias,
    oBias: attentionBias,
    mlpBias: llama && bool(j, 'mlp_bias', false),
    norm: 'rmsnorm',
    activation: 'swiglu',
    positions: 'rope',
    bosTokenId: tokenId(j, 'bos_token_id', d.bos),
    eosTokenIds: tokenIds(j, 'eos_token_id', d.eos),
  };
}

function parseGpt2(j: Json): ModelConfig {
  const d = DEFAULTS.gpt2;
  requireValue(j, 'activation_function', ['gelu_new'], 'GPT2LMHeadModel is implemented with the tanh GELU (gelu_new)');
  requireValue(j, 'scale_attn_weights', [true], 'attention scores are always scaled by 1/sqrt(head size)');
  requireValue(j, 'scale_attn_by_inverse_layer_idx', [false], 'per-layer attention scaling is not implemented');
  requireValue(j, 'add_cross_attention', [false], 'cross-attention is not implemented');
  const C = posInt(j, 'n_embd');
  const NH = posInt(j, 'n_head');
  if (C % NH !== 0) throw new ModelConfigError(`n_embd ${C} is not divisible by n_head ${NH}`);
  const maxPositions = posInt(j, 'n_positions', d.maxPositions);
  return {
    architecture: 'GPT2LMHeadModel',
    modelType: 'gpt2',
    family: 'gpt2',
    V: posInt(j, 'vocab_size'),
    C,
    L: posInt(j, 'n_layer'),
    NH,
    NKV: NH,
    HS: C / NH,
    F: posInt(j, 'n_inner', 4 * C),
    maxT: maxPositions,
    maxPositions,
    slidingWindow: null,
    normEps: posNum(j, 'layer_norm_epsilon', d.normEps),
    ropeTheta: 0,
    tiedEmbeddings: bool(j, 'tie_word_embeddings', d.tied),
    attnBias: true,
    oBias: true,
    mlpBias: true,
    norm: 'layernorm',
    activation: 'gelu_tanh',
    positions: 'learned',
    bosTokenId: tokenId(j, 'bos_token_id', d.bos),
    eosTokenIds: tokenIds(j, 'eos_token_id', d.eos),
  };
}

/** Internal consistency of a ModelConfig (also for configs built in code). Throws ModelConfigError. */
export function validateModelConfig(cfg: ModelConfig): void {
  for (const k of ['V', 'C', 'L', 'NH', 'NKV', 'HS', 'F', 'maxT', 'maxPositions'] as const) {
    if (!Number.isInteger(cfg[k]) || cfg[k] <= 0) throw new ModelConfigError(`${k} must be a positive integer, got ${cfg[k]}`);
  }
  if (cfg.NH * cfg.HS !== cfg.C) throw new ModelConfigError(`NH*HS = ${cfg.NH}*${cfg.HS} must equal C = ${cfg.C}`);
  if (cfg.NH % cfg.NKV !== 0) throw new ModelConfigError(`num_key_value_heads ${cfg.NKV} must divide num_attention_heads ${cfg.NH}`);
  if (cfg.positions === 'rope' && cfg.HS % 2 !== 0) throw new ModelConfigError(`head size ${cfg.HS} must be even for RoPE`);
  if (cfg.positions === 'rope' && !(cfg.ropeTheta > 0)) throw new ModelConfigError(`rope_theta must be positive, got ${cfg.ropeTheta}`);
  if (!(cfg.normEps > 0)) throw new ModelConfigError(`norm epsilon must be positive, got ${cfg.normEps}`);
  for (const id of [cfg.bosTokenId, ...cfg.eosTokenIds]) {
    if (id !== null && id >= cfg.V) throw new ModelConfigError(`special token id ${id} is outside the vocabulary (vocab_size ${cfg.V})`);
  }
}

/** A config.json object for `architecture` that transformers loads as the same model (weights exported as float32). */
export function toHfConfig(cfg: ModelConfig): Record<string, unknown> {
  const eos = cfg.eosTokenIds.length === 0 ? null : cfg.eosTokenIds.length === 1 ? cfg.eosTokenIds[0] : [...cfg.eosTokenIds];
  const common = { architectures: [cfg.architecture], model_type: cfg.modelType, vocab_size: cfg.V };
  const tail = { tie_word_embeddings: cfg.tiedEmbeddings, bos_token_id: cfg.bosTokenId, eos_token_id: eos, torch_dtype: 'float32' };
  if (cfg.family === 'gpt2') {
    return {
      ...common,
      n_embd: cfg.C,
      n_layer: cfg.L,
      n_head: cfg.NH,
      n_positions: cfg.maxPositions,
      n_ctx: cfg.maxPositions,
      n_inner: cfg.F === 4 * cfg.C ? null : cfg.F,
      activation_function: 'gelu_new',
      layer_norm_epsilon: cfg.normEps,
      ...tail,
    };
  }
  const out: Record<string, unknown> = {
    ...common,
    hidden_size: cfg.C,
    intermediate_size: cfg.F,
    num_hidden_layers: cfg.L,
    num_attention_heads: cfg.NH,
    num_key_value_heads: cfg.NKV,
    hidden_act: 'silu',
    max_position_embeddings: cfg.maxPositions,
    rms_norm_eps: cfg.normEps,
    rope_theta: cfg.ropeTheta,
    rope_scaling: null,
    ...tail,
  };
  if (cfg.modelType === 'llama') Object.assign(out, { head_dim: cfg.HS, attention_bias: cfg.attnBias, mlp_bias: cfg.mlpBias });
  if (cfg.modelType === 'mistral') Object.assign(out, { head_dim: cfg.HS, sliding_window: cfg.slidingWindow });
  if (cfg.modelType === 'qwen2') out.use_sliding_window = false;
  return out;
}

export interface TinyLlamaOptions {
  architecture?: 'LlamaForCausalLM' | 'Qwen2ForCausalLM' | 'MistralForCausalLM';
  V?: number;
  C?: number;
  L?: number;
  NH?: number;
  NKV?: number;
  F?: number;
  maxT?: number;
  tied?: boolean;
  /** Llama's attention_bias (q, k, v and o biases); Qwen2 always has q/k/v biases. */
  attentionBias?: boolean;
  mlpBias?: boolean;
  ropeTheta?: number;
  normEps?: number;
}

/** A tiny Llama-family model for tests, built as a config.json and parsed like a real one. */
export function tinyLlama(o: TinyLlamaOptions = {}): ModelConfig {
  const architecture = o.architecture ?? 'LlamaForCausalLM';
  const j: Json = {
    architectures: [architecture],
    model_type: ARCH_TYPE[architecture],
    vocab_size: o.V ?? 11,
    hidden_size: o.C ?? 16,
    intermediate_size: o.F ?? 24,
    num_hidden_layers: o.L ?? 2,
    num_attention_heads: o.NH ?? 4,
    num_key_value_heads: o.NKV ?? 2,
    max_position_embeddings: o.maxT ?? 16,
    rms_norm_eps: o.normEps ?? 1e-5,
    rope_theta: o.ropeTheta ?? 10000,
    tie_word_embeddings: o.tied ?? false,
    bos_token_id: 1,
    eos_token_id: 2,
  };
  if (architecture === 'LlamaForCausalLM') Object.assign(j, { attention_bias: o.attentionBias ?? false, mlp_bias: o.mlpBias ?? false });
  if (architecture === 'MistralForCausalLM') j.sliding_window = null;
  return parseHfConfig(j);
}

export interface TinyGpt2Options {
  V?: number;
  C?: number;
  L?: number;
  NH?: number;
  F?: number;
  maxT?: number;
  normEps?: number;
}

/** A tiny GPT-2 for tests, built as a config.json and parsed like a real one. */
export function tinyGpt2(o: TinyGpt2Options = {}): ModelConfig {
  const C = o.C ?? 16;
  return parseHfConfig({
    architectures: ['GPT2LMHeadModel'],
    model_type: 'gpt2',
    vocab_size: o.V ?? 11,
    n_embd: C,
    n_layer: o.L ?? 2,
    n_head: o.NH ?? 4,
    n_inner: o.F ?? null,
    n_positions: o.maxT ?? 16,
    activation_function: 'gelu_new',
    layer_norm_epsilon: o.normEps ?? 1e-5,
    bos_token_id: 0,
    eos_token_id: 0,
  });
}
