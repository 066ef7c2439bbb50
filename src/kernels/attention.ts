// Fused causal self-attention with grouped-query heads: forward (online softmax, saves the row
// log-sum-exp), backward (recomputes the probabilities from it), decode over a KV cache.
//
// Layout: q, k, v, out and the gradients are Heads views (src/kernels/attention/heads.ts) of the
// model's own rows, (B, T, H, HS) heads, either separate tensors or column ranges of one fused qkv
// projection, so no permute or copy is needed. lse is (B, NH, T). Query head h uses kv head
// h / (NH / NKV). scale defaults to 1/sqrt(HS).
//
// Variants (opts.variant forces one; else a timed trial's winner, see attention-tune.ts; else by adapter):
//  - 'subgroup': register kernels for CPU adapters (SwiftShader): a team of 4 lanes (one subgroup,
//    one workgroup) owns a block of rows, rows held in private variables spread over the lanes,
//    no workgroup memory. Needs the `subgroups` feature with subgroups of at least 4.
//  - 'private': the same kernels with one invocation per team and no subgroup operations (the
//    fallback for CPU adapters without `subgroups`).
//  - 'tiled': workgroup-memory tiles of q, k, v with barriers, for discrete GPUs.
import cacheCode from '../../shaders/attention_decode_cache.wgsl?raw';
import backwardTiledCode from '../../shaders/attention_backward_tiled.wgsl?raw';
import dkdvTiledCode from '../../shaders/attention_backward_tiled_dkdv.wgsl?raw';
import dqTiledCode from '../../shaders/attention_backward_tiled_dq.wgsl?raw';
import decodeTiledCode from '../../shaders/attention_decode_tiled.wgsl?raw';
import forwardTiledCode from '../../shaders/attention_forward_tiled.wgsl?raw';
import type { Engine } from '../gpu/engine';
import { type Tensor, byteLength, expectDType, expectShape } from '../gpu/tensor';
import { dkdvKernel, dqKernel } from './attention/backward-gen';
import { type ForwardMode, forwardKernel } from './attention/forward-gen';
import { type Heads, expectHeads, overlaps, toHeads } from './attention/heads';
import type { Lanes } from './attention/team';
import { grid1d } from './grid';
import { rememberedVariant, variantOverride } from './variant-cache';

export type AttentionVariant = 'subgroup' | 'private' | 'tiled';

export interface AttentionOptions {
  /** Score scale; default 1/sqrt(HS). */
  scale?: number;
  /** Force a variant (tests, benchmarks); default: by adapter. */
  variant?: AttentionVariant;
}

const LOG2E = Math.LOG2E;
/** Name of the attention kernels in the variant cache. */
export const KERNEL = 'attention';

function subgroupsUsable(e: Engine): boolean {
  const min = (e.device as GPUDevice & { adapterInfo?: GPUAdapterInfo }).adapterInfo?.subgroupMinSize;
  return e.gpu.hasSubgroups && (min === undefined || min >= 4);
}

/** Tuning class of an attention problem: head size and log2 of the sequence length (decode: of the cache length). */
export function attentionClass(kind: 'train' | 'decode', HS: number, T: number): string {
  return `${kind} hs${HS} t${Math.ceil(Math.log2(Math.max(1, T)))}`;
}

/** Variants this adapter can run. */
export function availableAttentionVariants(e: Engine): AttentionVariant[] {
  return subgroupsUsable(e) ? ['subgroup', 'private', 'tiled'] : ['private', 'tiled'];
}

/**
 * The variant to run: the forced one (checked), else the winner of a timed trial for this class
 * (`tuneAttention`), else by adapter: 'subgroup'/'private' on CPU adapters and 'tiled' on GPUs.
 * Forward and backward share the training class, so a forward's saved lse suits its backward.
 */
export function attentionVariant(e: Engine, opts: AttentionOptions | undefined, kernel: string, cls: string): AttentionVariant {
  const v = opts?.variant ?? (variantOverride(KERNEL) as AttentionVariant | undefined);
  if (v === 'subgroup' && !subgroupsUsable(e)) {
    throw new Error(`${kernel}: the 'subgroup' variant needs the "subgroups" feature with subgroups of at least 4 lanes, which this adapter lacks`);
  }
  if (v) return v;
  const tuned = rememberedVariant(e, KERNEL, cls) as AttentionVariant | undefined;
  if (tuned && availableAttentionVariants(e).includes(tuned)) return tuned;
  if (!e.gpu.adapter.isSoftware) return 'tiled';
  return subgroupsUsable(e) ? 'subgroup' : 'private';
}

const lanesOf = (v: AttentionVariant): Lanes => (v === 'subgroup' ? 4 : 1);

const pow2 = (x: number) => 2 ** Math.floor(Math.log2(Math.max(1, x)));

/**
 * Register-kernel blocking, by head size: rows per team MQ and keys per block NK. Only the MQ
 * output rows stay live across the key loop (MQ·HS/lanes values, kept near 128: SwiftShader's
 * compile time grows steeply beyond); larger blocks trade fewer loads for longer compiles.
 */
function forwardBlocking(mode: ForwardMode, lanes: Lanes, HS: number, G: number): { MQ: number; NK: number } {
  if (mode === 'decode') return { MQ: Math.min(G, lanes === 4 ? Math.min(16, pow2(512 / HS)) : pow2(64 / HS)), NK: lanes === 4 ? 8 : 2 };
  if (lanes === 1) return { MQ: pow2(64 / HS), NK: 2 };
  return { MQ: Math.min(16, pow2(512 / HS)), NK: HS >= 128 ? 4 : 8 };
}

function checkHeadSize(HS: number, kernel: string): void {
  if (!Number.isInteger(HS) || HS < 4 || HS > 256 || HS % 4 !== 0) {
    throw new RangeError(`${kernel}: head size ${HS} is not supported (a multiple of 4 from 4 to 256)`);
  }
}

function checkGroups(NH: number, NKV: number, kernel: string): void {
  if (NKV < 1 || NH % NKV !== 0) throw new RangeError(`${kernel}: NKV=${NKV} kv heads must divide NH=${NH} query heads`);
}

/** Square tiles of 16, 8 or 4 rows whose workgroup memory (`floats(t)` f32 values) fits the adapter. */
function tileRows(e: Engine, kernel: string, floats: (t: number) => number): number {
  const limit = e.gpu.limits.maxComputeWorkgroupStorageSize / 4;
  const t = [16, 8, 4].find((x) => floats(x) <= limit);
  if (t === undefined) throw new RangeError(`${kernel}: the tiled variant needs ${floats(4) * 4} bytes of workgroup memory, the adapter offers ${limit * 4}`);
  return t;
}

/**
 * WebGPU forbids one buffer bound both read-only and writable in a dispatch, and overlapping
 * writable bindings: say so readably instead of failing validation.
 */
function checkBindings(kernel: string, written: [string, Tensor][], read: [string, Tensor][]): void {
  for (const [wn, w] of written) {
    for (const [rn, r] of read) {
      if (w.buffer === r.buffer) throw new RangeError(`${kernel}: ${wn} is in the same buffer as ${rn}; outputs need a buffer the kernel does not read`);
    }
    for (const [on, o] of written) {
      if (o !== w && overlaps(w, o)) throw new RangeError(`${kernel}: ${wn} overlaps ${on}`);
    }
  }
}

// q is (B,T,NH,HS) heads, k and v are (B,T,NKV,HS) heads, out is (B,T,NH,HS) heads, lse is (B,NH,T)
// out[b,t,h] = sum_{j<=t} softmax_j(scale * q[b,t,h]·k[b,j,g]) v[b,j,g] with g = h/(NH/NKV);
// lse[b,h,t] = log sum_{j<=t} exp(scale * q[b,t,h]·k[b,j,g]).
export async function attentionForward(
  e: Engine, qIn: Tensor | Heads, kIn: Tensor | Heads, vIn: Tensor | Heads, outIn: Tensor | Heads, lse: Tensor, opts: AttentionOptions = {},
): Promise<void> {
  const K = 'attentionForward';
  const q = toHeads(qIn, `${K} q`);
  const k = toHeads(kIn, `${K} k`);
  const v = toHeads(vIn, `${K} v`);
  const out = toHeads(outIn, `${K} out`);
  const { B, T, H: NH, HS } = q;
  const NKV = k.H;
  checkHeadSize(HS, K);
  checkGroups(NH, NKV, K);
  expectHeads(q, { B, T, H: NH, HS }, `${K} q`);
  expectHeads(k, { B, T, H: NKV, HS }, `${K} k`);
  expectHeads(v, { B, T, H: NKV, HS }, `${K} v`);
  expectHeads(out, { B, T, H: NH, HS }, `${K} out`);
  expectShape(lse, [B, NH, T], `${K} lse`);
  expectDType(lse, 'f32', `${K} lse`);
  checkBindings(K, [['out', out.x], ['lse', lse]], [['q', q.x], ['k', k.x], ['v', v.x]]);
  if (B * T === 0) return;
  const variant = attentionVariant(e, opts, K, attentionClass('train', HS, T));
  const scale2 = (opts.scale ?? 1 / Math.sqrt(HS)) * LOG2E;
  const G = NH / NKV;
  const lanes = lanesOf(variant);
  const WG = 64;
  let pipeline: GPUComputePipeline;
  let MQ: number;
  if (variant === 'tiled') {
    MQ = tileRows(e, K, (t) => 3 * t * HS + t * t);
    pipeline = await e.pipelines.get({ label: `attention_forward_tiled_hs${HS}_t${MQ}`, code: forwardTiledCode, constants: { HS, BR: MQ, BC: MQ } });
  } else {
    const blk = forwardBlocking('causal', lanes, HS, G);
    MQ = blk.MQ;
    const code = forwardKernel({ mode: 'causal', lanes, HS, MQ, NK: blk.NK, WG });
    pipeline = await e.pipelines.get({ label: `attention_forward_${variant}_hs${HS}_mq${MQ}_nk${blk.NK}`, code });
  }
  const nrb = Math.ceil(T / MQ);
  const ntask = B * NH * nrb;
  const params = e.rec.params([
    ['u32', T], ['u32', NH], ['u32', G], ['u32', nrb], ['u32', ntask],
    ['u32', q.col], ['u32', q.rowStride], ['u32', k.col], ['u32', k.rowStride], ['u32', v.col], ['u32', v.rowStride],
    ['u32', out.col], ['u32', out.rowStride], ['f32', scale2],
  ]);
  const groups = variant === 'private' ? Math.ceil(ntask / WG) : ntask;
  e.rec.dispatch(pipeline, [q.x, k.x, v.x, out.x, lse, params], grid1d(groups, e.gpu.limits.maxComputeWorkgroupsPerDimension));
}

/** Register-kernel blocking of the backward passes (see forwardBlocking): dq keeps MQ rows of dq, dkdv NKB keys of dk and dv. */
function backwardBlocking(lanes: Lanes, HS: number): { MQ: number; NK: number; NKB: number; MR: number } {
  if (lanes === 1) return { MQ: pow2(64 / HS), NK: 2, NKB: pow2(32 / HS), MR: 1 };
  return { MQ: Math.min(16, pow2(512 / HS)), NK: 4, NKB: Math.min(8, pow2(256 / HS)), MR: 4 };
}

// dout is (B,T,NH,HS) heads, q is (B,T,NH,HS) heads, k and v are (B,T,NKV,HS) heads, out (B,T,NH,HS) heads and
// lse (B,NH,T) as saved by attentionForward; dq is (B,T,NH,HS) heads, dk and dv are (B,T,NKV,HS) heads (overwritten).
// Backward of out = softmax(scale q k^T + causal mask) v, with p recomputed from lse:
//   dv_j = Σ_i p_ij dout_i;  dp_ij = dout_i·v_j;  ds_ij = p_ij (dp_ij − D_i), D_i = dout_i·out_i;
//   dq_i = scale Σ_j ds_ij k_j;  dk_j = scale Σ_i ds_ij q_i  (summed over the query heads of kv head j's group).
// dk and dv may be column ranges of one tensor (a fused dqkv gradient); dq may share it too.
export async function attentionBackward(
  e: Engine, doutIn: Tensor | Heads, qIn: Tensor | Heads, kIn: Tensor | Heads, vIn: Tensor | Heads, outIn: Tensor | Heads, lse: Tensor,
  dqIn: Tensor | Heads, dkIn: Tensor | Heads, dvIn: Tensor | Heads, opts: AttentionOptions = {},
): Promise<void> {
  const K = 'attentionBackward';
  const [dout, q, k, v, out, dq, dk, dv] = (
    [[doutIn, 'dout'], [qIn, 'q'], [kIn, 'k'], [vIn, 'v'], [outIn, 'out'], [dqIn, 'dq'], [dkIn, 'dk'], [dvIn, 'dv']] as const
  ).map(([x, n]) => toHeads(x, `${K} ${n}`));
  const { B, T, H: NH, HS } = q;
  const NKV = k.H;
  checkHeadSize(HS, K);
  checkGroups(NH, NKV, K);
  for (const [x, n] of [[dout, 'dout'], [q, 'q'], [out, 'out'], [dq, 'dq']] as const) expectHeads(x, { B, T, H: NH, HS }, `${K} ${n}`);
  for (const [x, n] of [[k, 'k'], [v, 'v'], [dk, 'dk'], [dv, 'dv']] as const) expectHeads(x, { B, T, H: NKV, HS }, `${K} ${n}`);
  expectShape(lse, [B, NH, T], `${K} lse`);
  expectDType(lse, 'f32', `${K} lse`);
  const inputs: [string, Tensor][] = [['dout', dout.x], ['q', q.x], ['k', k.x], ['v', v.x], ['out', out.x], ['lse', lse]];
  checkBindings(K, [['dq', dq.x]], inputs);
  checkBindings(K, [['dk', dk.x]], inputs);
  checkBindings(K, [['dv', dv.x]], inputs);
  const shared = overlaps(dk.x, dv.x);
  if (shared && (dk.x.offset !== dv.x.offset || byteLength(dk.x) !== byteLength(dv.x))) {
    throw new RangeError(`${K}: dk and dv overlap in one buffer without being the same tensor; pass two views of one tensor or separate tensors`);
  }
  if (B * T === 0) return;
  const variant = attentionVariant(e, opts, K, attentionClass('train', HS, T));
  const lanes = lanesOf(variant);
  const G = NH / NKV;
  const WG = 64;
  const scale2 = (opts.scale ?? 1 / Math.sqrt(HS)) * LOG2E;
  const maxDim = e.gpu.limits.maxComputeWorkgroupsPerDimension;
  const views = (a: Heads, b: Heads) => [['u32', a.col], ['u32', a.rowStride], ['u32', b.col], ['u32', b.rowStride]] as const;
  const params = (nblk: number, ntask: number, g1: Heads, g2: Heads) =>
    e.rec.params([
      ['u32', T], ['u32', NH], ['u32', G], ['u32', nblk], ['u32', ntask],
      ['u32', q.col], ['u32', q.rowStride], ['u32', k.col], ['u32', k.rowStride], ['u32', v.col], ['u32', v.rowStride],
      ...views(out, dout), ...views(g1, g2), ['f32', scale2],
    ]);
  const groups = (ntask: number) => grid1d(variant === 'private' ? Math.ceil(ntask / WG) : ntask, maxDim);
  let dqPipe: GPUComputePipeline;
  let dkdvPipe: GPUComputePipeline;
  let MQ: number;
  let NKB: number;
  if (variant === 'tiled') {
    MQ = NKB = tileRows(e, K, (t) => 4 * t * HS + 2 * t * t + 6 * t);
    const constants = { HS, BR: MQ, BC: MQ };
    dqPipe = await e.pipelines.get({ label: `attention_backward_dq_tiled_hs${HS}_t${MQ}`, code: `${backwardTiledCode}\n${dqTiledCode}`, constants });
    dkdvPipe = await e.pipelines.get({
      label: `attention_backward_dkdv_tiled_hs${HS}_t${MQ}${shared ? '_shared' : ''}`,
      code: `${backwardTiledCode}\n${dkdvTiledCode}`,
      entryPoint: shared ? 'dkdv_shared' : 'main',
      constants,
    });
  } else {
    const blk = backwardBlocking(lanes, HS);
    MQ = blk.MQ;
    NKB = blk.NKB;
    dqPipe = await e.pipelines.get({ label: `attention_backward_dq_${variant}_hs${HS}_mq${MQ}_nk${blk.NK}`, code: dqKernel({ lanes, HS, MQ, NK: blk.NK, WG }) });
    dkdvPipe = await e.pipelines.get({
      label: `attention_backward_dkdv_${variant}_hs${HS}_nkb${NKB}_mr${blk.MR}${shared ? '_shared' : ''}`,
      code: dkdvKernel({ lanes, HS, NKB, MR: blk.MR, WG }, shared),
    });
  }
  const D = e.pool.tensor([B, NH, T], 'f32', 'attention D');
  // dq (and D = rowsum(dout ∘ out)) first: the dk/dv pass reads D.
  const nrb = Math.ceil(T / MQ);
  e.rec.dispatch(dqPipe, [q.x, k.x, v.x, out.x, dout.x, lse, dq.x, D, params(nrb, B * NH * nrb, dq, dq)], groups(B * NH * nrb));
  const nkb = Math.ceil(T / NKB);
  const bindings = [q.x, k.x, v.x, dout.x, lse, D, dk.x, params(nkb, B * NKV * nkb, dk, dv)];
  e.rec.dispatch(dkdvPipe, shared ? bindings : [...bindings, dv.x], groups(B * NKV * nkb));
  e.pool.release(D);
}

// q is (B,1,NH,HS) heads (one new token per sequence), kc and vc are (B,NKV,Tmax,HS), pos is (B) u32,
// out is (B,1,NH,HS) heads. The token of sequence b attends cache positions 0..pos[b], its own k and v
// included (written first by kvCacheWrite): out[b,h] = Σ_{j<=pos[b]} softmax_j(scale q[b,h]·kc[b,g,j]) vc[b,g,j].
export async function attentionDecode(
  e: Engine, qIn: Tensor | Heads, kc: Tensor, vc: Tensor, pos: Tensor, outIn: Tensor | Heads, opts: AttentionOptions = {},
): Promise<void> {
  const K = 'attentionDecode';
  const q = toHeads(qIn, `${K} q`);
  const out = toHeads(outIn, `${K} out`);
  const { B, H: NH, HS } = q;
  if (kc.shape.length !== 4) throw new RangeError(`${K} kc: expected (B, NKV, Tmax, HS), got [${kc.shape}]`);
  const [, NKV, Tmax] = kc.shape;
  checkHeadSize(HS, K);
  checkGroups(NH, NKV, K);
  expectHeads(q, { B, T: 1, H: NH, HS }, `${K} q`);
  expectHeads(out, { B, T: 1, H: NH, HS }, `${K} out`);
  for (const [t, n] of [[kc, 'kc'], [vc, 'vc']] as const) {
    expectShape(t, [B, NKV, Tmax, HS], `${K} ${n}`);
    expectDType(t, 'f32', `${K} ${n}`);
  }
  expectShape(pos, [B], `${K} pos`);
  expectDType(pos, 'u32', `${K} pos`);
  checkBindings(K, [['out', out.x]], [['q', q.x], ['kc', kc], ['vc', vc], ['pos', pos]]);
  if (B === 0 || Tmax === 0) return;
  const variant = attentionVariant(e, opts, K, attentionClass('decode', HS, Tmax));
  const scale2 = (opts.scale ?? 1 / Math.sqrt(HS)) * LOG2E;
  const G = NH / NKV;
  const maxDim = e.gpu.limits.maxComputeWorkgroupsPerDimension;
  if (variant === 'tiled') {
    const WG = 64;
    const pipeline = await e.pipelines.get({ label: `attention_decode_tiled_hs${HS}`, code: decodeTiledCode, constants: { WG, HS } });
    const ntask = B * NH;
    const params = e.rec.params([['u32', Tmax], ['u32', NKV], ['u32', G], ['u32', 1], ['u32', ntask], ['u32', q.col], ['u32', q.rowStride], ['u32', out.col], ['u32', out.rowStride], ['f32', scale2]]);
    e.rec.dispatch(pipeline, [q.x, kc, vc, pos, out.x, params], grid1d(ntask, maxDim));
    return;
  }
  const lanes = lanesOf(variant);
  const { MQ, NK } = forwardBlocking('decode', lanes, HS, G);
  const WG = 64;
  const code = forwardKernel({ mode: 'decode', lanes, HS, MQ, NK, WG });
  const pipeline = await e.pipelines.get({ label: `attention_decode_${variant}_hs${HS}_mq${MQ}_nk${NK}`, code });
  const nhc = Math.ceil(G / MQ);
  const ntask = B * NKV * nhc;
  const params = e.rec.params([['u32', Tmax], ['u32', NKV], ['u32', G], ['u32', nhc], ['u32', ntask], ['u32', q.col], ['u32', q.rowStride], ['u32', out.col], ['u32', out.rowStride], ['f32', scale2]]);
  e.rec.dispatch(pipeline, [q.x, kc, vc, pos, out.x, params], grid1d(lanes === 4 ? ntask : Math.ceil(ntask / WG), maxDim));
}

// k and v are (B,T,NKV,HS) heads (the new rows: T = 1 when decoding, the prompt when prefilling),
// kc and vc are (Bc,NKV,Tmax,HS) with Bc >= cacheRow + B, pos is (B) u32:
// kc[cacheRow+b,g,pos[b]+t] = k[b,t,g], vc likewise (cacheRow: where a batch prefilled in parts goes).
// Rows that would land at or past Tmax are skipped.
export async function kvCacheWrite(
  e: Engine, kIn: Tensor | Heads, vIn: Tensor | Heads, kc: Tensor, vc: Tensor, pos: Tensor, cacheRow = 0,
): Promise<void> {
  const K = 'kvCacheWrite';
  const k = toHeads(kIn, `${K} k`);
  const v = toHeads(vIn, `${K} v`);
  const { B, T, H: NKV, HS } = k;
  expectHeads(v, { B, T, H: NKV, HS }, `${K} v`);
  if (kc.shape.length !== 4) throw new RangeError(`${K} kc: expected (B, NKV, Tmax, HS), got [${kc.shape}]`);
  const [Bc, , Tmax] = kc.shape;
  if (!Number.isInteger(cacheRow) || cacheRow < 0 || cacheRow + B > Bc) {
    throw new RangeError(`${K}: rows ${cacheRow}..${cacheRow + B - 1} do not fit in a cache of ${Bc} sequences`);
  }
  for (const [t, n] of [[kc, 'kc'], [vc, 'vc']] as const) {
    expectShape(t, [Bc, NKV, Tmax, HS], `${K} ${n}`);
    expectDType(t, 'f32', `${K} ${n}`);
  }
  expectShape(pos, [B], `${K} pos`);
  expectDType(pos, 'u32', `${K} pos`);
  checkBindings(K, [['kc', kc], ['vc', vc]], [['k', k.x], ['v', v.x], ['pos', pos]]);
  const n = B * T * NKV * HS;
  if (n === 0) return;
  const WG = 64;
  const pipeline = await e.pipelines.get({ label: `attention_decode_cache_wg${WG}`, code: cacheCode, constants: { WG } });
  const params = e.rec.params([['u32', n], ['u32', T], ['u32', NKV], ['u32', HS], ['u32', Tmax], ['u32', k.col], ['u32', k.rowStride], ['u32', v.col], ['u32', v.rowStride], ['u32', cacheRow]]);
  e.rec.dispatch(pipeline, [k.x, v.x, pos, kc, vc, params], grid1d(Math.ceil(n / WG), e.gpu.limits.maxComputeWorkgroupsPerDimension));
}
