// The GPU memory a run of a model takes, counted buffer by buffer as the code allocates them, so a
// plan that cannot fit is refused before anything is allocated, saying what to reduce.
//
// Rows are N = batch·seq tokens; P is the number of trained elements (the whole flat layout, or the
// LoRA adapters'). What each figure counts, in bytes:
//   params       the flat parameter buffer (ONE buffer: FlatBuffer), and the LoRA adapters' own
//   grads        training: one buffer like the trained parameters (GradNorm and AdamW bind it whole)
//   moments      training: AdamW's m and v (pooled, P each), its norm and clip scale
//   activations  allocateActivations (activationBytes), each tensor in its pool size class
//   other        the batch's token / loss buffers and token index, LoRA's u and du, kernel scratch
//                (norm and bias-gradient partials, attention's D, grad-norm partials, split-K partials
//                as the matmul heuristic would take them, the output chunks of a linear larger than
//                one binding), the RoPE table, the uniform arena
//   generation   while generating (eval, GRPO sampling): a KV cache for (genRows, seq) and one decode
//                step's buffers (genRows = batch unless the plan says more; fitGenRows picks it), next
//                to everything above
//   readback     training: the largest staging buffer of a readback (a checkpoint reads one trained-
//                parameter-sized file at a time; the loss is read as N values)
// total = params + grads + moments + activations + other + max(generation, readback): a checkpoint is
// never saved while generating. Pooled tensors take sizeClass(bytes), as the buffer pool allocates them.
//
// Refused: one buffer over maxBufferSize, the total over the budget, seq over the context, and a tensor
// over one binding that kernels bind whole. Flat parameter / gradient / moment buffers, the embedding
// and LM head, and the logits are bound in pieces when larger (src/kernels/split.ts): noted, not refused.
import { sizeClass } from '../gpu/size-class';
import type { ModelConfig } from './config';
import { type LoraSpec, type ParamLayout, paramLayout } from './param-layout';

export interface MemoryPlan {
  /** Rows per forward pass and tokens per row: the capacity the model is allocated for. */
  batch: number;
  seq: number;
  /** Train LoRA adapters (the base frozen) instead of every parameter. */
  lora?: LoraSpec;
  /** Allocate gradients and the optimizer (default true); false for generation only. */
  train?: boolean;
  /** Sequences generated at once over the KV cache (the Transformer's genB); default batch. */
  genRows?: number;
}

export interface MemoryLimits {
  maxBufferSize: number;
  /** The largest range one kernel binding may cover (the engine's binding limit). */
  maxStorageBufferBindingSize: number;
  /** Bytes the whole plan may take (see memoryLimits); no total check without it. */
  budgetBytes?: number;
  /** Where the budget comes from, for messages ("half of the 16 GiB of memory the browser reports"). */
  budgetNote?: string;
}

export interface MemoryEstimate {
  /** Bytes: parameters, gradients, AdamW moments (of the trained parameters), activations, total. */
  params: number;
  grads: number;
  moments: number;
  activations: number;
  /** Token buffers, LoRA scratch, kernel scratch, uniform arena. */
  other: number;
  /** Held while generating (eval, GRPO): KV cache and decode-step buffers, for genRows sequences at once. */
  generation: number;
  /** Sequences generated at once: the plan's genRows, else its batch. */
  genRows: number;
  /** Held while training reads back a checkpoint file (trained-parameter sized) or the token losses. */
  readback: number;
  total: number;
  /** The largest single buffer and binding the plan needs, against the adapter's limits. */
  largestBuffer: number;
  largestBinding: number;
  /** What they are, e.g. "the parameters" or "the logits (N×V)". */
  largestBufferWhat: string;
  largestBindingWhat: string;
  limits: MemoryLimits;
  /**
   * False when one buffer exceeds maxBufferSize, the total exceeds the budget, seq the context, or a
   * tensor that kernels bind whole (activations, the KV cache) exceeds one binding.
   */
  fits: boolean;
  /** When it does not fit: what exceeds and what to reduce (batch, seq, LoRA, a smaller model). */
  problems: string[];
  /** Tensors larger than one binding that kernels bind in pieces (parameters, moments, logits): not a refusal. */
  bindingNotes: string[];
}

/** What reduces a buffer: a smaller model, LoRA instead of full fine-tuning, a lower LoRA rank, or fewer rows. */
type Cure = 'model' | 'lora' | 'rank' | 'rows';

interface Buf {
  what: string;
  /** Bytes allocated. */
  bytes: number;
  /** Bytes of the largest range a kernel binds in it (0: never bound as storage). */
  bound: number;
  /** That range, when it is not the whole buffer. */
  boundWhat?: string;
  /** Every kernel that binds it takes it in pieces when it exceeds one binding (src/kernels/split.ts). */
  splits?: boolean;
  cure: Cure;
}

const F32 = 4;
/** The recorder's uniform arena (src/gpu/recorder.ts). */
const UNIFORM_ARENA_BYTES = 64 * 1024;
/** Rows per partial of the norm-weight and column-sum passes (PARAM_CHUNK, COL_CHUNK in src/kernels). */
const ROW_CHUNK = 64;
/** Grad-norm partials: at most 1024, each over at least 4096 elements (src/kernels/adamw.ts). */
const NORM_PARTIALS = 1024;
const NORM_MIN_CHUNK = 4096;

const ceilDiv = (a: number, b: number): number => Math.ceil(a / b);

/** A tensor of `elements` 4-byte values from the buffer pool. */
function pooled(what: string, elements: number, cure: Cure, splits = false): Buf {
  return { what, bytes: sizeClass(F32 * elements), bound: F32 * elements, cure, splits };
}

/** A kernel scratch buffer (src/kernels/scratch.ts): exact size, at least 16 bytes. */
function scratchBuf(what: string, elements: number, cure: Cure = 'rows'): Buf {
  return { what, bytes: Math.max(16, F32 * elements), bound: F32 * elements, cure };
}

/** A FlatBuffer (src/model/gpu-params.ts): bound whole (by AdamW and the grad norm) or tensor by tensor. */
function flatBuf(what: string, elements: number, specs: readonly { size: number }[] | 'whole', cure: Cure): Buf {
  const bytes = Math.max(256, F32 * elements);
  if (specs === 'whole') return { what, bytes, bound: F32 * elements, cure, splits: true };
  return { what, bytes, bound: F32 * Math.max(0, ...specs.map((s) => s.size)), boundWhat: `the largest tensor of ${what}`, cure, splits: true };
}

/** The flat parameter, gradient and AdamW buffers. */
function trainedBuffers(layout: ParamLayout, train: boolean): { params: Buf[]; grads: Buf[]; moments: Buf[]; trained: number } {
  const ll = layout.lora;
  const full = ll === null;
  const P = full ? layout.totalElements : ll.totalElements;
  const params = [flatBuf('the parameters', layout.totalElements, train && full ? 'whole' : layout.tensors, 'model')];
  if (ll) params.push(flatBuf('the LoRA adapters', ll.totalElements, train ? 'whole' : ll.tensors, 'rank'));
  if (!train) return { params, grads: [], moments: [], trained: P };
  const cure: Cure = full ? 'lora' : 'rank';
  return {
    params,
    grads: [flatBuf('the gradients', P, 'whole', cure)],
    moments: [pooled('AdamW m', P, cure, true), pooled('AdamW v', P, cure, true), pooled('grad norm', 1, cure), pooled('clip scale', 1, cure)],
    trained: P,
  };
}

/** Every tensor allocateActivations (src/model/activations.ts) takes for a (B, T) batch. */
function activationBuffers(cfg: ModelConfig, B: number, T: number): Buf[] {
  const N = B * T;
  const { C, NH, NKV, HS, F, V } = cfg;
  const ln = cfg.norm === 'layernorm';
  const swiglu = cfg.activation === 'swiglu';
  const rows = (what: string, cols: number): Buf => pooled(`the activations ${what} (${N} tokens × ${cols})`, N * cols, 'rows');
  const out: Buf[] = [];
  for (let l = 0; l < cfg.L; l++) {
    out.push(rows('res', C), rows('xn1', C), rows('rstd1', 1), rows('q', NH * HS), rows('k', NKV * HS), rows('v', NKV * HS));
    out.push(rows('att', NH * HS), pooled('the attention log-sum-exp', B * NH * T, 'rows'), rows('resMid', C), rows('xn2', C), rows('rstd2', 1));
    out.push(rows('gate', F), rows('h', F));
    if (ln) out.push(rows('mean1', 1), rows('mean2', 1));
    if (swiglu) out.push(rows('up', F));
  }
  out.push(rows('resOut', C), rows('xnf', C), rows('rstdf', 1), pooled(`the logits (${N} tokens × ${V} vocab)`, N * V, 'rows', true));
  if (ln) out.push(rows('meanf', 1));
  out.push(rows('proj', C), rows('dres', C), rows('dxn', C), rows('dq', NH * HS), rows('dk', NKV * HS), rows('dv', NKV * HS));
  out.push(rows('datt', NH * HS), rows('dgate', F), rows('dh', F));
  if (swiglu) out.push(rows('dup', F));
  return out;
}

/** Matmul shapes [M, N, K] of one step: each linear's forward, and its backward when training. */
function stepMatmuls(layout: ParamLayout, N: number, train: boolean): [number, number, number][] {
  const { V, C } = layout.config;
  const full = layout.lora === null;
  const shapes: [number, number, number][] = [[N, V, C], ...(train ? [[N, C, V] as [number, number, number]] : [])];
  if (train && full) shapes.push([V, C, N]);
  for (const t of layout.tensors) {
    if (t.shape.length !== 2 || t.name === 'wte' || t.name === 'wpe') continue;
    const [o, i] = t.shape;
    shapes.push([N, o, i]);
    if (train) shapes.push([N, i, o]);
    if (train && full) shapes.push([o, i, N]);
  }
  for (const ad of layout.lora?.adapters ?? []) {
    const [o, i, r] = [ad.outDim, ad.inDim, layout.lora!.rank];
    shapes.push([N, r, i], [N, o, r]);
    if (train) shapes.push([N, r, o], [N, i, r], [r, i, N], [o, r, N]);
  }
  return shapes;
}

/**
 * Split-K partials (slices, M, N) as src/kernels/matmul.ts's heuristic would take them: only for
 * K >= 1024 and fewer than 128 tiles of 64×64 (GPU) — a CPU adapter splits less — with at most 64
 * slices of at least 64 k each, and no more than fit one binding. An upper bound: the kernel keeps
 * one scratch buffer, grown to the largest.
 */
function splitKElements([M, N, K]: [number, number, number], bindLimit: number): number {
  if (K < 1024) return 0;
  const tiles = ceilDiv(M, 64) * ceilDiv(N, 64);
  if (tiles >= 128) return 0;
  const fit = Math.floor(bindLimit / (F32 * M * N));
  return Math.max(1, Math.min(64, Math.floor(K / 64), fit, Math.max(8, ceilDiv(256, tiles)))) * M * N;
}

/**
 * The scratch block of a linear whose weight (out, in) exceeds one binding (src/model/linear-split.ts):
 * a block of rows (as many as fit one binding, at most `rows`) by a chunk of output rows of the weight
 * (a multiple of 64 that fits). 0 when the weight fits.
 */
function linearChunkElements(rows: number, out: number, inDim: number, rank: number, bindLimit: number): number {
  if (F32 * out * inDim <= bindLimit) return 0;
  const blockRows = Math.min(rows, Math.floor(bindLimit / (F32 * Math.max(inDim, out, rank))));
  const chunk = Math.min(out, Math.max(64, Math.floor(bindLimit / (F32 * inDim) / 64) * 64));
  return blockRows * chunk;
}

/** Grad-norm partials (src/kernels/adamw.ts): up to 1024 chunks of >= 4096 elements, whole multiples of 64 that fit one binding when P does not. */
function gradNormPartials(P: number, bindLimit: number): number {
  const K = Math.max(1, Math.min(NORM_PARTIALS, ceilDiv(P, NORM_MIN_CHUNK)));
  if (F32 * P <= bindLimit) return K;
  return ceilDiv(P, Math.min(ceilDiv(ceilDiv(P, K), 64) * 64, Math.floor(bindLimit / 256) * 64));
}

/** Token buffers, LoRA scratch and kernel scratch of a step. */
function otherBuffers(layout: ParamLayout, B: number, T: number, train: boolean, trained: number, bindLimit: number): Buf[] {
  const cfg = layout.config;
  const N = B * T;
  const { C, NH } = cfg;
  const ll = layout.lora;
  const out: Buf[] = ['tokens', 'targets', 'loss weights', 'token loss', 'token logprob', 'token entropy', 'token index ids', 'token index positions']
    .map((what) => pooled(what, N, 'rows'));
  out.push(pooled('token index starts', N + 1, 'rows'));
  for (const ad of ll?.adapters ?? []) out.push(pooled(`${ad.module} lora u`, N * ll!.rank, 'rows', true), pooled(`${ad.module} lora du`, N * ll!.rank, 'rows', true));
  out.push({ what: 'uniform arena', bytes: UNIFORM_ARENA_BYTES, bound: 0, cure: 'rows' }, scratchBuf('matmul no bias', 4));
  // RoPE's cos/sin table (src/kernels/rope.ts): (max(T, 64), HS/2, 2).
  if (cfg.positions === 'rope') out.push(scratchBuf('the RoPE table', Math.max(T, 64) * cfg.HS));
  const splitK = Math.max(0, ...stepMatmuls(layout, N, train).map((shape) => splitKElements(shape, bindLimit)));
  if (splitK > 0) out.push(scratchBuf('split-K partials', splitK));
  const rank = ll?.rank ?? 0;
  const linears = layout.tensors.filter((t) => t.shape.length === 2 && t.name !== 'wpe' && (t.name !== 'wte' || cfg.tiedEmbeddings));
  const chunk = Math.max(0, ...linears.map((t) => linearChunkElements(N, t.shape[0], t.shape[1], rank, bindLimit)));
  if (chunk > 0) out.push(scratchBuf('linear output chunks', chunk));
  if (!train) return out;

  const ln = cfg.norm === 'layernorm';
  const partialRows = ceilDiv(N, ROW_CHUNK);
  out.push(pooled('attention D', B * NH * T, 'rows'));
  for (const what of ln ? ['layernorm dweight partials', 'layernorm dbias partials'] : ['rmsnorm dweight partials']) out.push(scratchBuf(what, partialRows * C));
  if (ll) for (const what of ln ? ['frozen weight', 'frozen bias'] : ['frozen weight']) out.push(scratchBuf(what, C));
  // One column-sum scratch, grown to the largest: the norm partials' second pass, bias gradients (full fine-tuning).
  const colSums = [partialRows > ROW_CHUNK ? ceilDiv(partialRows, ROW_CHUNK) * C : 0];
  if (!ll && N > ROW_CHUNK) {
    for (const t of layout.tensors) if (t.shape.length === 1 && t.name.endsWith('.b') && !/ln[12f]?\.b$/.test(t.name)) colSums.push(partialRows * t.size);
  }
  const colSum = Math.max(...colSums);
  if (colSum > 0) out.push(scratchBuf('column-sum partials', colSum));
  out.push(scratchBuf('grad-norm partials', gradNormPartials(trained, bindLimit)));
  return out;
}

/**
 * A Decoder (src/model/decode.ts) for `B` sequences with a KV cache of `Tmax` positions, and the
 * sampled ids; the prompts are prefilled `batch` at a time.
 */
function generationBuffers(layout: ParamLayout, B: number, batch: number, Tmax: number): Buf[] {
  const cfg = layout.config;
  const { C, NH, NKV, HS, F, V } = cfg;
  const b = (what: string, cols: number): Buf => pooled(`decode ${what}`, B * cols, 'rows');
  const out = [b('tokens', 1), b('pos', 1), b('row idx', 1), b('res', C), b('xn', C), b('rstd', 1), b('q', NH * HS), b('k', NKV * HS)];
  out.push(b('v', NKV * HS), b('att', NH * HS), b('proj', C), b('gate', F), b('h', F), b('logits', V), b('next tokens', 1), b('next logprobs', 1));
  if (cfg.positions === 'learned') out.push(b('wpe rows', C));
  if (cfg.norm === 'layernorm') out.push(b('mean', 1));
  if (cfg.activation === 'swiglu') out.push(b('up', F));
  if (B > batch) out.push(pooled('decode prefill part logits', batch * V, 'rows'));
  for (const ad of layout.lora?.adapters ?? []) out.push(b(`${ad.module} lora u`, layout.lora!.rank));
  // Each step reads back the sampled ids and their log-probs at once (src/gpu/transfer.ts: a MAP_READ staging buffer each).
  out.push({ what: 'sampled ids staging', bytes: F32 * B, bound: 0, cure: 'rows' }, { what: 'sampled log-probs staging', bytes: F32 * B, bound: 0, cure: 'rows' });
  for (let l = 0; l < cfg.L; l++) {
    for (const kv of ['k', 'v']) out.push(pooled(`the KV cache's ${kv} (${B} × ${NKV} heads × ${Tmax} positions × ${HS}, per layer)`, B * NKV * Tmax * HS, 'rows'));
  }
  return out;
}

const sum = (bufs: readonly Buf[]): number => bufs.reduce((s, b) => s + b.bytes, 0);

/** "1.3 GiB", "12.0 MiB": binary units, as memory is sized. */
export function bytesText(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${v} B` : `${v.toFixed(1)} ${units[u]}`;
}

/** "494M", "1.25M", "12.3K": parameter counts. */
export function countText(n: number): string {
  const [div, unit] = n >= 1e9 ? [1e9, 'B'] : n >= 1e6 ? [1e6, 'M'] : n >= 1e3 ? [1e3, 'K'] : [1, ''];
  return unit ? `${Number((n / div).toPrecision(3))}${unit}` : String(n);
}

function checkPlan(plan: MemoryPlan): void {
  for (const k of ['batch', 'seq'] as const) {
    if (!Number.isInteger(plan[k]) || plan[k] < 1) throw new RangeError(`${k} must be a positive integer, got ${plan[k]}`);
  }
  const g = plan.genRows;
  if (g !== undefined && !(Number.isInteger(g) && g >= plan.batch)) throw new RangeError(`genRows must be an integer of at least batch (${plan.batch}), got ${g}`);
}

/** The message for the buffers of one cure larger than maxBufferSize: the largest, how many, what to reduce. */
function bufferProblem(over: Buf[], plan: MemoryPlan, numParams: number, max: number): string {
  const b = over.reduce((x, y) => (y.bytes > x.bytes ? y : x));
  const limit = `this adapter's maxBufferSize is ${bytesText(max)}`;
  if (b.cure === 'model') return `the ${countText(numParams)} parameters take one ${bytesText(b.bytes)} buffer; ${limit}: choose a smaller model`;
  const more = over.length > 1 ? ` (and ${over.length - 1} more buffer${over.length > 2 ? 's' : ''} over the limit)` : '';
  const needs = `needs ${bytesText(b.bytes)} for ${b.what} in one buffer${more}; ${limit}`;
  if (b.cure === 'lora') return `full fine-tuning of ${countText(numParams)} parameters ${needs}: use LoRA`;
  if (b.cure === 'rank') return `LoRA rank ${plan.lora?.rank} ${needs}: lower the rank`;
  return `batch ${plan.batch} × seq ${plan.seq} ${needs}: lower batch or seq`;
}

/** The message for tensors over one binding that some kernel binds whole (activations, the KV cache). */
function bindingProblem(whole: Buf[], plan: MemoryPlan, limit: number): string {
  const b = whole.reduce((x, y) => (y.bound > x.bound ? y : x));
  const more = whole.length > 1 ? ` (and ${whole.length - 1} more over the limit)` : '';
  return `batch ${plan.batch} × seq ${plan.seq} needs ${bytesText(b.bound)} for ${b.what}, which kernels bind whole${more}; ` +
    `this adapter binds at most ${bytesText(limit)} at once (maxStorageBufferBindingSize): lower batch or seq`;
}

/** The message when the total is over the budget: the parts, then what would help and by how much. */
function budgetProblem(e: MemoryEstimate, plan: MemoryPlan, lora: boolean, train: boolean, rowBytes: number, budget: number, note?: string): string {
  const parts = ([['parameters', e.params], ['gradients', e.grads], ['AdamW moments', e.moments], ['activations', e.activations], ['other', e.other], ['generation', e.generation]] as const)
    .filter(([, v]) => v > 0)
    .map(([k, v]) => `${k} ${bytesText(v)}`);
  const cures: string[] = [];
  if (train && !lora) cures.push(`use LoRA (frees most of the ${bytesText(e.grads + e.moments)} of gradients and moments)`);
  cures.push(`lower batch or seq (${bytesText(rowBytes)} grows with batch × seq)`);
  if (e.params > budget) cures.push(`choose a smaller model (its parameters alone take ${bytesText(e.params)})`);
  const mode = train ? (lora ? ' with LoRA' : ' with full fine-tuning') : ' (generation only)';
  return `batch ${plan.batch} × seq ${plan.seq}${mode} needs ${bytesText(e.total)} of GPU memory (${parts.join(', ')}); ` +
    `the budget is ${bytesText(budget)}${note ? ` (${note})` : ''}: ${cures.join('; or ')}`;
}

/** The memory a run of `cfg` with `plan` takes on an adapter with `limits`, and whether it fits. */
export function estimateMemory(cfg: ModelConfig, plan: MemoryPlan, limits: MemoryLimits): MemoryEstimate {
  checkPlan(plan);
  const train = plan.train ?? true;
  const { batch: B, seq: T } = plan;
  const layout = paramLayout(cfg, plan.lora);
  const { params, grads, moments, trained } = trainedBuffers(layout, train);
  const activations = activationBuffers(cfg, B, T);
  const other = otherBuffers(layout, B, T, train, trained, limits.maxStorageBufferBindingSize);
  const generation = generationBuffers(layout, plan.genRows ?? B, B, T);
  // Training reads back one checkpoint file (trained-parameter sized) or the per-token losses (N) at a time.
  const readback: Buf[] = !train ? [] : trained >= B * T
    ? [{ what: 'the checkpoint staging buffer', bytes: F32 * trained, bound: 0, cure: plan.lora ? 'rank' : 'lora' }]
    : [{ what: 'the token losses staging buffer', bytes: F32 * B * T, bound: 0, cure: 'rows' }];
  const all = [...params, ...grads, ...moments, ...activations, ...other, ...generation, ...readback];
  const largestBuf = all.reduce((a, b) => (b.bytes > a.bytes ? b : a));
  const largestBound = all.reduce((a, b) => (b.bound > a.bound ? b : a));
  const estimate: MemoryEstimate = {
    params: sum(params),
    grads: sum(grads),
    moments: sum(moments),
    activations: sum(activations),
    other: sum(other),
    generation: sum(generation),
    genRows: plan.genRows ?? B,
    readback: sum(readback),
    total: sum([...params, ...grads, ...moments, ...activations, ...other]) + Math.max(sum(generation), sum(readback)),
    largestBuffer: largestBuf.bytes,
    largestBinding: largestBound.bound,
    largestBufferWhat: largestBuf.what,
    largestBindingWhat: largestBound.boundWhat ?? largestBound.what,
    limits: { ...limits },
    fits: true,
    problems: [],
    bindingNotes: [],
  };

  if (T > cfg.maxT) estimate.problems.push(`seq ${T} exceeds the model's context of ${cfg.maxT} tokens: lower seq`);
  for (const cure of ['model', 'lora', 'rank', 'rows'] as const) {
    const over = all.filter((b) => b.cure === cure && b.bytes > limits.maxBufferSize);
    if (over.length) estimate.problems.push(bufferProblem(over, plan, layout.numParams, limits.maxBufferSize));
  }
  const bindLimit = limits.maxStorageBufferBindingSize;
  const overBinding = all.filter((b) => b.bound > bindLimit);
  const whole = overBinding.filter((b) => !b.splits);
  if (whole.length) estimate.problems.push(bindingProblem(whole, plan, bindLimit));
  const budget = limits.budgetBytes;
  if (budget !== undefined && estimate.total > budget) {
    const rowBytes = sum([...activations, ...generation, ...other.filter((b) => b.cure === 'rows')]);
    estimate.problems.push(budgetProblem(estimate, plan, plan.lora !== undefined, train, rowBytes, budget, limits.budgetNote));
  }
  const notes = overBinding.filter((b) => b.splits)
    .map((b) => `${b.boundWhat ?? b.what} (${bytesText(b.bound)}) is larger than one binding (${bytesText(bindLimit)} on this adapter): kernels bind it in pieces`);
  estimate.bindingNotes = [...new Set(notes)];
  estimate.fits = estimate.problems.length === 0;
  return estimate;
}

/**
 * How many sequences a run should generate at once: the most, from `wanted` down by halves, whose
 * plan fits `limits`, else the plan's batch. More rows make generation faster where a decode step
 * costs about the same for more rows (README "Speed"), at the price of a larger KV cache.
 */
export function fitGenRows(cfg: ModelConfig, plan: MemoryPlan, limits: MemoryLimits, wanted: number): number {
  for (let rows = wanted; rows > plan.batch; rows = Math.floor(rows / 2)) {
    if (estimateMemory(cfg, { ...plan, genRows: rows }, limits).fits) return rows;
  }
  return plan.batch;
}

/** Throws a RangeError listing every problem when `plan` does not fit (call before allocating anything). */
export function assertFits(cfg: ModelConfig, plan: MemoryPlan, limits: MemoryLimits): MemoryEstimate {
  const e = estimateMemory(cfg, plan, limits);
  if (!e.fits) throw new RangeError(`this run does not fit: ${e.problems.join('. ')}`);
  return e;
}

/**
 * The adapter's limits and a budget for the total. WebGPU does not say how much memory a GPU has;
 * the browser gives the machine's RAM as navigator.deviceMemory (GiB, rounded down to a power of two
 * and capped, at 8 or 32 depending on the browser). SwiftShader and integrated GPUs allocate in that
 * RAM, shared with the browser and the page's own copies of the weights: the budget is half of it.
 * On a discrete GPU with more memory of its own this errs on the careful side. Without
 * deviceMemory (Firefox, Safari) there is no budget and only single buffers are checked.
 */
export function memoryLimits(
  gpu: { limits: Pick<GPUSupportedLimits, 'maxBufferSize' | 'maxStorageBufferBindingSize'>; bindingLimit?: number },
  deviceMemoryGiB: number | undefined,
): MemoryLimits {
  const limits: MemoryLimits = { maxBufferSize: gpu.limits.maxBufferSize, maxStorageBufferBindingSize: gpu.bindingLimit ?? gpu.limits.maxStorageBufferBindingSize };
  if (deviceMemoryGiB === undefined || !(deviceMemoryGiB > 0)) return limits;
  return { ...limits, budgetBytes: (deviceMemoryGiB / 2) * 2 ** 30, budgetNote: `half of the ${deviceMemoryGiB} GiB of memory the browser reports` };
}
