// The flat parameter layout (llm.c style): every parameter lives in ONE flat f32 buffer, and
// each named tensor is a view at an offset. Gradients and AdamW moments use the same layout.
//
// Conventions
// - Plantune names (`wte`, `h.{l}.attn.q.w`, ...) are the same for every architecture; the HF
//   name and how the HF tensor maps onto ours are data on each TensorSpec (hfName, hfShape,
//   hfSlice, hfTranspose), so import/export is a generic loop over the specs.
// - Linear weights are (out, in) and compute y = x·Wᵀ + b, as HF nn.Linear stores them.
//   GPT-2's HF Conv1D stores (in, out): those specs have hfTranspose = true.
// - q, k and v are separate tensors for every architecture. GPT-2's fused c_attn (C, 3C) is
//   split by columns: q = c_attn[:, 0:C]ᵀ, k = c_attn[:, C:2C]ᵀ, v = c_attn[:, 2C:3C]ᵀ (hfSlice).
// - Every tensor starts at a multiple of 64 elements (256 bytes), so it can be bound as a
//   storage-buffer view (minStorageBufferOffsetAlignment = 256).
// - hfName is the key transformers' save_pretrained writes for the *ForCausalLM / LMHeadModel
//   class. Checkpoints of the bare base model omit `hfBasePrefix` (the hub's gpt2 files do).
// - Weight decay on tensors of rank >= 2 only (nanoGPT): matrices and embeddings, not norms or biases.
//
// LoRA (PEFT semantics): a LoRA spec targets HF linear modules by PEFT's target_modules rule
// (a key matches a module path equal to it or ending in `.key`). Each targeted module gets
// A (r, in) and B (out, r) in a second flat buffer; the module's weight becomes
// W + (alpha/r)·B·A. One HF module may feed several Plantune weights (GPT-2's c_attn feeds
// q, k, v): `parts` say which rows of B drive which Plantune weight.

import type { ModelConfig } from './config';

/** Alignment of every tensor's offset, in elements (256 bytes of f32). */
export const ALIGN = 64;

export interface TensorSpec {
  /** Plantune name, e.g. `h.3.attn.q.w`. */
  name: string;
  shape: number[];
  /** Number of elements (product of shape). */
  size: number;
  /** Offset in elements in the flat buffer; a multiple of ALIGN. */
  offset: number;
  /** AdamW weight decay applies (rank >= 2). */
  decay: boolean;
  trainable: boolean;
  /** Key of the HF safetensors tensor this comes from. */
  hfName: string;
  /** Shape of that HF tensor. */
  hfShape: number[];
  /** This tensor is a slice [start, end) along `dim` of the HF tensor (GPT-2 c_attn); null = the whole tensor. */
  hfSlice: { dim: number; start: number; end: number } | null;
  /** Ours = transpose of the (sliced) HF tensor (GPT-2 Conv1D weights stored (in, out)). */
  hfTranspose: boolean;
}

export interface LoraSpec {
  rank: number;
  alpha: number;
  /** PEFT target_modules: HF module leaf names like `q_proj`, `c_attn`, or dotted suffixes like `mlp.c_proj`. */
  targets: string[];
}

export interface LoraPart {
  /** Plantune weight this adapter adds to. */
  param: string;
  /** Rows [rowStart, rowStart + rows) of B (and of the HF module's output) drive that weight. */
  rowStart: number;
  rows: number;
}

export interface LoraAdapter {
  layer: number;
  /** HF module path, e.g. `model.layers.0.self_attn.q_proj`. */
  module: string;
  inDim: number;
  outDim: number;
  /** (rank, inDim), PEFT `base_model.model.<module>.lora_A.weight`. */
  A: TensorSpec;
  /** (outDim, rank), PEFT `base_model.model.<module>.lora_B.weight`. */
  B: TensorSpec;
  parts: LoraPart[];
}

export interface LoraLayout {
  rank: number;
  alpha: number;
  /** alpha / rank: ΔW = scale·B·A. */
  scale: number;
  targets: string[];
  adapters: LoraAdapter[];
  /** A and B of every adapter, in buffer order. */
  tensors: TensorSpec[];
  numParams: number;
  /** Length of the flat LoRA buffer (numParams plus alignment padding). */
  totalElements: number;
}

export interface ParamLayout {
  config: ModelConfig;
  tensors: TensorSpec[];
  byName: Map<string, TensorSpec>;
  /** Real parameter count (no padding). */
  numParams: number;
  /** Length of the flat buffer in elements (with alignment padding). */
  totalElements: number;
  /** Prefix of hfName that checkpoints of the bare base model omit: 'model.' or 'transformer.'. */
  hfBasePrefix: string;
  /** LoRA layout when a LoRA spec was given (base tensors are then frozen), else null. */
  lora: LoraLayout | null;
}

interface HfLinear {
  /** HF module path, e.g. `model.layers.0.self_attn.q_proj`. */
  module: string;
  inDim: number;
  outDim: number;
  stage: 'attn' | 'mlp';
  /** Conv1D (GPT-2): weight stored (in, out). */
  conv1d: boolean;
  bias: boolean;
  /** Plantune names (without `.w` / `.b`) fed by this module, with their row counts in order. */
  outputs: { name: string; rows: number }[];
}

/** The HF linear modules of one block, in forward order. */
function blockLinears(cfg: ModelConfig, l: number): HfLinear[] {
  const { C, F, NH, NKV, HS } = cfg;
  const p = `h.${l}`;
  if (cfg.family === 'gpt2') {
    const m = `transformer.h.${l}`;
    return [
      { module: `${m}.attn.c_attn`, stage: 'attn', inDim: C, outDim: 3 * C, conv1d: true, bias: true, outputs: [{ name: `${p}.attn.q`, rows: C }, { name: `${p}.attn.k`, rows: C }, { name: `${p}.attn.v`, rows: C }] },
      { module: `${m}.attn.c_proj`, stage: 'attn', inDim: C, outDim: C, conv1d: true, bias: true, outputs: [{ name: `${p}.attn.o`, rows: C }] },
      { module: `${m}.mlp.c_fc`, stage: 'mlp', inDim: C, outDim: F, conv1d: true, bias: true, outputs: [{ name: `${p}.mlp.fc`, rows: F }] },
      { module: `${m}.mlp.c_proj`, stage: 'mlp', inDim: F, outDim: C, conv1d: true, bias: true, outputs: [{ name: `${p}.mlp.proj`, rows: C }] },
    ];
  }
  const m = `model.layers.${l}`;
  const lin = (module: string, name: string, inDim: number, outDim: number, bias: boolean): HfLinear => ({
    module: `${m}.${module}`, stage: module.startsWith('mlp') ? 'mlp' : 'attn', inDim, outDim, conv1d: false, bias, outputs: [{ name: `${p}.${name}`, rows: outDim }],
  });
  return [
    lin('self_attn.q_proj', 'attn.q', C, NH * HS, cfg.attnBias),
    lin('self_attn.k_proj', 'attn.k', C, NKV * HS, cfg.attnBias),
    lin('self_attn.v_proj', 'attn.v', C, NKV * HS, cfg.attnBias),
    lin('self_attn.o_proj', 'attn.o', NH * HS, C, cfg.oBias),
    lin('mlp.gate_proj', 'mlp.gate', C, F, cfg.mlpBias),
    lin('mlp.up_proj', 'mlp.up', C, F, cfg.mlpBias),
    lin('mlp.down_proj', 'mlp.down', F, C, cfg.mlpBias),
  ];
}

type Draft = Omit<TensorSpec, 'offset' | 'trainable' | 'size' | 'decay'>;

function whole(name: string, shape: number[], hfName: string): Draft {
  return { name, shape, hfName, hfShape: shape, hfSlice: null, hfTranspose: false };
}

function normDrafts(cfg: ModelConfig, name: string, hfModule: string): Draft[] {
  const d = [whole(`${name}.w`, [cfg.C], `${hfModule}.weight`)];
  if (cfg.norm === 'layernorm') d.push(whole(`${name}.b`, [cfg.C], `${hfModule}.bias`));
  return d;
}

function linearDrafts(lin: HfLinear): Draft[] {
  const out: Draft[] = [];
  let row = 0;
  const split = lin.outputs.length > 1;
  for (const o of lin.outputs) {
    const wShape = lin.conv1d ? [lin.inDim, lin.outDim] : [lin.outDim, lin.inDim];
    out.push({
      name: `${o.name}.w`,
      shape: [o.rows, lin.inDim],
      hfName: `${lin.module}.weight`,
      hfShape: wShape,
      hfSlice: split ? { dim: lin.conv1d ? 1 : 0, start: row, end: row + o.rows } : null,
      hfTranspose: lin.conv1d,
    });
    if (lin.bias) {
      out.push({
        name: `${o.name}.b`,
        shape: [o.rows],
        hfName: `${lin.module}.bias`,
        hfShape: [lin.outDim],
        hfSlice: split ? { dim: 0, start: row, end: row + o.rows } : null,
        hfTranspose: false,
      });
    }
    row += o.rows;
  }
  return out;
}

function modelDrafts(cfg: ModelConfig): Draft[] {
  const gpt2 = cfg.family === 'gpt2';
  const base = gpt2 ? 'transformer.' : 'model.';
  const d: Draft[] = [whole('wte', [cfg.V, cfg.C], gpt2 ? 'transformer.wte.weight' : 'model.embed_tokens.weight')];
  if (cfg.positions === 'learned') d.push(whole('wpe', [cfg.maxPositions, cfg.C], 'transformer.wpe.weight'));
  for (let l = 0; l < cfg.L; l++) {
    const lins = blockLinears(cfg, l);
    const hfBlock = gpt2 ? `transformer.h.${l}` : `model.layers.${l}`;
    d.push(...normDrafts(cfg, `h.${l}.ln1`, gpt2 ? `${hfBlock}.ln_1` : `${hfBlock}.input_layernorm`));
    d.push(...lins.filter((lin) => lin.stage === 'attn').flatMap(linearDrafts));
    d.push(...normDrafts(cfg, `h.${l}.ln2`, gpt2 ? `${hfBlock}.ln_2` : `${hfBlock}.post_attention_layernorm`));
    d.push(...lins.filter((lin) => lin.stage === 'mlp').flatMap(linearDrafts));
  }
  d.push(...normDrafts(cfg, 'lnf', gpt2 ? `${base}ln_f` : `${base}norm`));
  if (!cfg.tiedEmbeddings) d.push(whole('lm_head.w', [cfg.V, cfg.C], 'lm_head.weight'));
  return d;
}

function alignUp(n: number): number {
  return Math.ceil(n / ALIGN) * ALIGN;
}

function place(drafts: Draft[], trainable: boolean): { tensors: TensorSpec[]; numParams: number; totalElements: number } {
  let offset = 0;
  let numParams = 0;
  const tensors = drafts.map((d) => {
    const size = d.shape.reduce((a, b) => a * b, 1);
    const t: TensorSpec = { ...d, size, offset, decay: d.shape.length >= 2, trainable };
    offset = alignUp(offset + size);
    numParams += size;
    return t;
  });
  return { tensors, numParams, totalElements: offset };
}

/** True when PEFT's target_modules key `key` selects the module at `path`. */
function peftMatches(key: string, path: string): boolean {
  return path === key || path.endsWith(`.${key}`);
}

/** The LoRA layout of `spec` for `cfg`: one adapter per targeted HF linear, in forward order. */
export function loraLayout(cfg: ModelConfig, spec: LoraSpec): LoraLayout {
  if (!Number.isInteger(spec.rank) || spec.rank <= 0) throw new Error(`LoRA rank must be a positive integer, got ${spec.rank}`);
  if (!(spec.alpha > 0)) throw new Error(`LoRA alpha must be positive, got ${spec.alpha}`);
  if (spec.targets.length === 0) throw new Error('LoRA targets is empty');
  const all = Array.from({ length: cfg.L }, (_, l) => blockLinears(cfg, l).map((lin) => ({ l, lin }))).flat();
  for (const key of spec.targets) {
    if (!all.some(({ lin }) => peftMatches(key, lin.module))) {
      const names = [...new Set(blockLinears(cfg, 0).map((lin) => lin.module.split('.').pop()))];
      throw new Error(`LoRA target "${key}" matches no linear module of ${cfg.architecture}; valid: ${names.join(', ')}`);
    }
  }
  const r = spec.rank;
  const chosen = all.filter(({ lin }) => spec.targets.some((key) => peftMatches(key, lin.module)));
  const drafts: Draft[] = chosen.flatMap(({ l, lin }) => {
    const leaf = lin.module.split('.').slice(-2).join('.');
    const peft = `base_model.model.${lin.module}`;
    return [whole(`h.${l}.lora.${leaf}.A`, [r, lin.inDim], `${peft}.lora_A.weight`), whole(`h.${l}.lora.${leaf}.B`, [lin.outDim, r], `${peft}.lora_B.weight`)];
  });
  const { tensors, numParams, totalElements } = place(drafts, true);
  const adapters = chosen.map(({ l, lin }, i): LoraAdapter => {
    let row = 0;
    const parts = lin.outputs.map((o) => {
      const part = { param: `${o.name}.w`, rowStart: row, rows: o.rows };
      row += o.rows;
      return part;
    });
    return { layer: l, module: lin.module, inDim: lin.inDim, outDim: lin.outDim, A: tensors[2 * i], B: tensors[2 * i + 1], parts };
  });
  return { rank: r, alpha: spec.alpha, scale: spec.alpha / r, targets: [...spec.targets], adapters, tensors, numParams, totalElements };
}

/** The flat layout of all parameters of `cfg`; with `lora`, base tensors are frozen and `lora` holds the adapters' layout. */
export function paramLayout(cfg: ModelConfig, lora?: LoraSpec): ParamLayout {
  const { tensors, numParams, totalElements } = place(modelDrafts(cfg), lora === undefined);
  return {
    config: cfg,
    tensors,
    byName: new Map(tensors.map((t) => [t.name, t])),
    numParams,
    totalElements,
    hfBasePrefix: cfg.family === 'gpt2' ? 'transformer.' : 'model.',
    lora: lora === undefined ? null : loraLayout(cfg, lora),
  };
}

/** The spec named `name`; throws on an unknown name. */
export function tensorSpec(layout: ParamLayout, name: string): TensorSpec {
  const t = layout.byName.get(name);
  if (!t) throw new Error(`no parameter named "${name}" in the ${layout.config.architecture} layout`);
  return t;
}

/** The view of tensor `t` in a flat buffer laid out by its layout. */
export function view<A extends Float32Array | Float64Array>(buf: A, t: TensorSpec): A {
  return buf.subarray(t.offset, t.offset + t.size) as A;
}

/** Each HF tensor once, in layout order, with the Plantune specs that come from it (several for GPT-2's c_attn). */
export function hfTensors(tensors: TensorSpec[]): { hfName: string; hfShape: number[]; parts: TensorSpec[] }[] {
  const byName = new Map<string, { hfName: string; hfShape: number[]; parts: TensorSpec[] }>();
  for (const t of tensors) {
    const e = byName.get(t.hfName);
    if (e) e.parts.push(t);
    else byName.set(t.hfName, { hfName: t.hfName, hfShape: t.hfShape, parts: [t] });
  }
  return [...byName.values()];
}

// Index in the row-major HF tensor of element (i, j) of our 2-D tensor (or element i of a 1-D one).
function hfIndex(t: TensorSpec, i: number, j: number): number {
  if (t.shape.length === 1) return (t.hfSlice?.start ?? 0) + i;
  // Ours (rows, cols); the (sliced) HF tensor is (rows, cols) or, transposed, (cols, rows).
  let [hr, hc] = t.hfTranspose ? [j, i] : [i, j];
  if (t.hfSlice) {
    if (t.hfSlice.dim === 0) hr += t.hfSlice.start;
    else hc += t.hfSlice.start;
  }
  return hr * t.hfShape[1] + hc;
}

function forEachElement(t: TensorSpec, fn: (ours: number, hf: number) => void): void {
  const rows = t.shape[0];
  const cols = t.shape.length === 1 ? 1 : t.shape[1];
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) fn(i * cols + j, hfIndex(t, i, j));
}

/** Copy tensor `t` out of its HF tensor `hf` (row-major, shape t.hfShape) into `out` (t.size elements). */
export function fromHfTensor(t: TensorSpec, hf: ArrayLike<number>, out: Float32Array | Float64Array): void {
  const n = t.hfShape.reduce((a, b) => a * b, 1);
  if (hf.length !== n) throw new Error(`${t.hfName}: expected ${n} elements (shape ${t.hfShape.join('x')}), got ${hf.length}`);
  if (out.length !== t.size) throw new Error(`${t.name}: output has ${out.length} elements, expected ${t.size}`);
  forEachElement(t, (o, h) => (out[o] = hf[h]));
}

/** Write tensor `t` (t.size elements in `src`) into its place in the HF tensor `hf` (shape t.hfShape). */
export function intoHfTensor(t: TensorSpec, src: ArrayLike<number>, hf: Float32Array | Float64Array): void {
  const n = t.hfShape.reduce((a, b) => a * b, 1);
  if (hf.length !== n) throw new Error(`${t.hfName}: expected ${n} elements (shape ${t.hfShape.join('x')}), got ${hf.length}`);
  if (src.length !== t.size) throw new Error(`${t.name}: source has ${src.length} elements, expected ${t.size}`);
  forEachElement(t, (o, h) => (hf[h] = src[o]));
}
