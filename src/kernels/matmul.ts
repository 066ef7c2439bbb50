// Matrix multiplication: C = alpha * op(A) * op(B) (+ bias) (+ C when accumulating), batched.
// Four algorithms, each forcible with `opts.variant`; the choice for a shape is made in one place
// (`chooseMatmulVariant`): an override, else the winner of a timed trial (`tuneMatmul`, run at
// startup and remembered per adapter), else a heuristic.
//   subgroup-rb       subgroup register tiles sharing A by broadcast, one kernel for every layout: CPU adapters (SwiftShader)
//   register-blocked  per-invocation register tiles, vec4 loads when aligned: no subgroups needed
//   tiled             workgroup-memory tiles with barriers: GPUs
//   splitk            K cut into slices computed in parallel, then a deterministic sum: small C, long K
import reduceCode from '../../shaders/matmul_splitk_reduce.wgsl?raw';
import epilogue from '../../shaders/matmul_epilogue.wgsl?raw';
import type { Engine } from '../gpu/engine';
import type { PipelineSpec } from '../gpu/pipeline-cache';
import type { Param } from '../gpu/recorder';
import { type Tensor, expectDType, expectShape } from '../gpu/tensor';
import { fill } from '../gpu/transfer';
import { ceilDiv, grid1d } from './grid';
import { type Layout, layoutName } from './matmul/common';
import { registerBlockedTile, registerBlockedWgsl, type RegisterBlockedSpec } from './matmul/register-blocked';
import { subgroupRbTile, subgroupRbWgsl, type SubgroupRbSpec } from './matmul/subgroup-rb';
import { tiledTile, tiledWgsl } from './matmul/tiled';
import { scratch } from './scratch';
import { loadRememberedVariants, rememberedVariant, runTrial, variantOverride } from './variant-cache';

export type MatmulVariant = 'subgroup-rb' | 'register-blocked' | 'tiled' | 'splitk';
export const MATMUL_VARIANTS: readonly MatmulVariant[] = ['subgroup-rb', 'register-blocked', 'tiled', 'splitk'];
type BaseVariant = Exclude<MatmulVariant, 'splitk'>;

export interface MatmulOptions {
  /** a is (K,M) instead of (M,K). */
  transA?: boolean;
  /** b is (N,K) instead of (K,N). */
  transB?: boolean;
  /** (N), added to every row of C. */
  bias?: Tensor;
  /** C += alpha * A * B (+ bias), e.g. to accumulate gradients. */
  accumulate?: boolean;
  /** Scale of A * B (default 1). */
  alpha?: number;
  /** Force an algorithm (tests, benchmarks). */
  variant?: MatmulVariant;
}

/** A problem as variant selection sees it. */
export interface MatmulShape {
  M: number;
  N: number;
  K: number;
  batch?: number;
  transA?: boolean;
  transB?: boolean;
}

interface Problem extends Layout {
  M: number;
  N: number;
  K: number;
  batch: number;
  /** Batch strides in elements (0: the operand is shared by every batch entry). */
  strideA: number;
  strideB: number;
}

const KERNEL = 'matmul';
const ACCUMULATE = 1;
const BIAS = 2;
const PARTIAL = 4;
/** The layout, read at run time by kernels generated for every layout at once (subgroup-rb). */
const TRANS_A = 8;
const TRANS_B = 16;
/** Shortest K range a split-K slice gets. */
const MIN_SLICE_K = 64;
const MAX_SLICES = 64;
const REDUCE_WG = 64;

/** True when the subgroup-rb design applies: subgroups of exactly 4 lanes. */
export function subgroupRbAvailable(e: Engine): boolean {
  const info = (e.device as GPUDevice & { adapterInfo?: GPUAdapterInfo }).adapterInfo;
  return e.gpu.hasSubgroups && info?.subgroupMinSize === 4 && info?.subgroupMaxSize === 4;
}

export function availableMatmulVariants(e: Engine): MatmulVariant[] {
  return MATMUL_VARIANTS.filter((v) => v !== 'subgroup-rb' || subgroupRbAvailable(e));
}

function problemOf(e: Engine, a: Tensor, b: Tensor, c: Tensor, opts: MatmulOptions): Problem {
  const align = e.gpu.limits.minStorageBufferOffsetAlignment;
  for (const [t, name] of [[a, 'a'], [b, 'b'], [c, 'c'], ...(opts.bias ? [[opts.bias, 'bias'] as const] : [])] as const) {
    expectDType(t, 'f32', `matmul ${name}`);
    if (t.offset % align) throw new RangeError(`matmul ${name}: byte offset ${t.offset} is not a multiple of the adapter's storage offset alignment (${align})`);
  }
  for (const [t, name] of [[a, 'a'], [b, 'b'], [c, 'c']] as const) {
    if (t.shape.length !== 2 && t.shape.length !== 3) throw new RangeError(`matmul ${name}: expected 2 or 3 dimensions, got [${t.shape}]`);
  }
  const transA = opts.transA ?? false;
  const transB = opts.transB ?? false;
  const batched = c.shape.length === 3;
  if (!batched && (a.shape.length === 3 || b.shape.length === 3)) throw new RangeError(`matmul: a or b has a batch dimension but c [${c.shape}] does not`);
  const batch = batched ? c.shape[0] : 1;
  const [M, N] = c.shape.slice(-2);
  const K = a.shape[a.shape.length - (transA ? 2 : 1)];
  const lead = (t: Tensor): number[] => (t.shape.length === 3 ? [batch] : []);
  expectShape(a, [...lead(a), ...(transA ? [K, M] : [M, K])], `matmul a${transA ? ' (transposed)' : ''}`);
  expectShape(b, [...lead(b), ...(transB ? [N, K] : [K, N])], `matmul b${transB ? ' (transposed)' : ''}`);
  if (opts.bias) expectShape(opts.bias, [N], 'matmul bias');
  if (!(M > 0 && N > 0 && K > 0 && batch > 0)) throw new RangeError(`matmul: empty problem M=${M} N=${N} K=${K} batch=${batch}`);
  return { M, N, K, batch, transA, transB, strideA: a.shape.length === 3 ? M * K : 0, strideB: b.shape.length === 3 ? K * N : 0 };
}

const fullShape = (s: MatmulShape): Problem => ({
  M: s.M,
  N: s.N,
  K: s.K,
  batch: s.batch ?? 1,
  transA: s.transA ?? false,
  transB: s.transB ?? false,
  strideA: 0,
  strideB: 0,
});

/** Shape class for remembered choices: layout, batched or not, and log2 buckets of M, N, K. */
export function matmulClass(s: MatmulShape): string {
  const p = fullShape(s);
  const bucket = (x: number): number => Math.ceil(Math.log2(Math.max(1, x)));
  return `${layoutName(p)}${p.batch > 1 ? 'b' : ''} m${bucket(p.M)} n${bucket(p.N)} k${bucket(p.K)}`;
}

interface Launch {
  label: string;
  /** Generates the WGSL (once per label: see `pipelineSpec`). */
  code: () => string;
  rows: number;
  cols: number;
}

/**
 * subgroup-rb's tile for this problem. Wider tiles need fewer loads per multiply-add: measured on
 * SwiftShader, 32 x 64 per subgroup with 8 k per step runs 20-40% faster than 32 x 32 with 4 on the
 * training shapes, and as fast as 64 x 64, which takes twice as long to compile (9 s vs 4 s). Few
 * rows (generation, small batches) get 16, 8 or 4 rows and narrow outputs 32 columns. A decode
 * step of 16 rows gathers each weight once with 16-row tiles, twice with 8: in bench/profile
 * (Llama d256, 16 prompts) its matmuls took 0.86 of the prefill matmuls' GPU time, against 1.02.
 */
function subgroupRbSpec(p: Problem): SubgroupRbSpec {
  const R = p.M >= 24 ? 32 : p.M > 8 ? 16 : p.M > 4 ? 8 : 4;
  const J = R === 32 && p.N >= 64 ? 16 : 8;
  return { R, J, KU: R === 32 ? 8 : 4, SGR: 1, SGC: 4 };
}

/** The pipeline and workgroup tile of a base algorithm for this problem. */
function baseLaunch(variant: BaseVariant, p: Problem): Launch {
  if (variant === 'subgroup-rb') {
    const s = subgroupRbSpec(p);
    return { label: `matmul_subgroup_rb_r${s.R}_j${s.J}_ku${s.KU}`, code: () => subgroupRbWgsl(s), ...subgroupRbTile(s) };
  }
  // The other two are generated per layout: their strides are constants in the code.
  const layout = layoutName(p);
  if (variant === 'register-blocked') {
    const contiguousA = p.transA ? p.M : p.K;
    const contiguousB = p.transB ? p.K : p.N;
    const vec4 = contiguousA % 4 === 0 && contiguousB % 4 === 0;
    const s: RegisterBlockedSpec = { transA: p.transA, transB: p.transB, TM: 8, TN: 8, WGX: 8, WGY: 8, vec4 };
    return { label: `matmul_register_blocked_${layout}${vec4 ? '_vec4' : ''}`, code: () => registerBlockedWgsl(s), ...registerBlockedTile(s) };
  }
  return { label: `matmul_tiled_${layout}`, code: () => tiledWgsl(p), ...tiledTile() };
}

/** Generated sources by label: a launch costs a map lookup, not a code generation. */
const generated = new Map<string, PipelineSpec>();

function pipelineSpec(l: Launch): PipelineSpec {
  let spec = generated.get(l.label);
  if (!spec) generated.set(l.label, (spec = { label: l.label, code: l.code() }));
  return spec;
}

const workgroups = (l: Launch, p: Problem): number => ceilDiv(p.N, l.cols) * ceilDiv(p.M, l.rows) * p.batch;

/** The algorithm split-K runs on each slice. */
const splitInner = (e: Engine): BaseVariant => (subgroupRbAvailable(e) ? 'subgroup-rb' : 'register-blocked');

/** CPU adapters: SwiftShader runs one workgroup per thread and one thread per core. */
const cores = (): number => globalThis.navigator?.hardwareConcurrency ?? 4;

/** Share of core time used when `w` equal workgroups run on `n` cores, one per core at a time. */
const balance = (w: number, n: number): number => w / (Math.ceil(w / n) * n);

/** Workgroups that fill a GPU's compute units. */
const GPU_BUSY = 128;

/**
 * Slices for split-K (each at least MIN_SLICE_K long): on a CPU adapter the fewest slices that
 * spread the workgroups evenly over the cores, on a GPU enough for twice GPU_BUSY workgroups.
 */
function splitSlices(e: Engine, p: Problem, baseWorkgroups: number): { slices: number; kChunk: number } {
  // the partial sums (slices, batch, M, N) are bound whole, so no more slices than fit one binding
  const fit = Math.floor(e.bindingLimit / (4 * p.batch * p.M * p.N));
  const most = Math.max(1, Math.min(MAX_SLICES, Math.floor(p.K / MIN_SLICE_K), fit));
  let want = Math.min(most, Math.ceil((2 * GPU_BUSY) / baseWorkgroups));
  if (e.gpu.adapter.isSoftware) {
    want = 1;
    for (let s = 2; s <= Math.min(most, 8); s++) if (balance(baseWorkgroups * s, cores()) > balance(baseWorkgroups * want, cores())) want = s;
  }
  const kChunk = Math.ceil(p.K / want / 4) * 4;
  return { slices: ceilDiv(p.K, kChunk), kChunk };
}

function heuristic(e: Engine, p: Problem): MatmulVariant {
  const base: BaseVariant = subgroupRbAvailable(e) ? 'subgroup-rb' : e.gpu.adapter.isSoftware ? 'register-blocked' : 'tiled';
  // Too few workgroups leave cores (or compute units) idle; with a long K, slicing K gives them
  // work. Measured on SwiftShader: once the workgroups spread evenly over the cores, the extra
  // pass and partial sums make split-K slower, so on a CPU it is only for uneven spreads.
  if (p.K >= 1024) {
    const w = workgroups(baseLaunch(base, p), p);
    if (e.gpu.adapter.isSoftware ? balance(w, cores()) < 0.8 : w < GPU_BUSY) return 'splitk';
  }
  return base;
}

function checkAvailable(e: Engine, v: string): MatmulVariant {
  if (!(MATMUL_VARIANTS as readonly string[]).includes(v)) throw new Error(`matmul: unknown variant '${v}' (known: ${MATMUL_VARIANTS.join(', ')})`);
  if (v === 'subgroup-rb' && !subgroupRbAvailable(e)) {
    throw new Error(`matmul: the 'subgroup-rb' variant needs the "subgroups" feature with 4-lane subgroups, which ${e.gpu.adapter.name} lacks`);
  }
  return v as MatmulVariant;
}

/** The variant `matmul` runs for this shape: the override, else the tuned choice, else the heuristic. */
export function chooseMatmulVariant(e: Engine, s: MatmulShape): MatmulVariant {
  const forced = variantOverride(KERNEL);
  if (forced) return checkAvailable(e, forced);
  const tuned = rememberedVariant(e, KERNEL, matmulClass(s));
  if (tuned && availableMatmulVariants(e).includes(tuned as MatmulVariant)) return tuned as MatmulVariant;
  return heuristic(e, fullShape(s));
}

function params(p: Problem, kChunk: number, flags: number, alpha: number, slices: number): Param[] {
  return [
    ['u32', p.M],
    ['u32', p.N],
    ['u32', p.K],
    ['u32', p.batch],
    ['u32', p.strideA],
    ['u32', p.strideB],
    ['u32', kChunk],
    ['u32', flags],
    ['f32', alpha],
    ['u32', slices],
  ];
}

/** Uniforms of one plain C = A·B launch (one batch entry, no split, bias or accumulate): for benchmarks that dispatch a generated kernel themselves. */
export const plainMatmulParams = (M: number, N: number, K: number): Param[] =>
  params({ M, N, K, batch: 1, strideA: 0, strideB: 0, transA: false, transB: false }, K, 0, 1, 1);

/** Set by collectMatmulShapes while it runs. */
let shapeObserver: ((s: MatmulShape) => void) | null = null;

// a is (M,K) [or (K,M) when transA], b is (K,N) [or (N,K) when transB], c is (M,N); batched: leading dim
// (c is (batch,M,N); a or b without the batch dimension is shared by every batch entry).
// c = alpha * a·b (+ bias[n]) (+ c when accumulate).
export async function matmul(e: Engine, a: Tensor, b: Tensor, c: Tensor, opts: MatmulOptions = {}): Promise<void> {
  const p = problemOf(e, a, b, c, opts);
  shapeObserver?.(p);
  const variant = opts.variant ? checkAvailable(e, opts.variant) : chooseMatmulVariant(e, p);
  const alpha = opts.alpha ?? 1;
  const bias = opts.bias ?? scratch(e, 'matmul no bias', [4]);
  const layout = (p.transA ? TRANS_A : 0) | (p.transB ? TRANS_B : 0);
  const flags = layout | (opts.accumulate ? ACCUMULATE : 0) | (opts.bias ? BIAS : 0);
  const maxDim = e.gpu.limits.maxComputeWorkgroupsPerDimension;

  if (variant !== 'splitk') {
    const launch = baseLaunch(variant, p);
    const pipeline = await e.pipelines.get(pipelineSpec(launch));
    const grid = [ceilDiv(p.N, launch.cols), ceilDiv(p.M, launch.rows), p.batch] as const;
    e.rec.dispatch(pipeline, [c, bias, e.rec.params(params(p, p.K, flags, alpha, 1)), a, b], grid);
    return;
  }

  // Split-K: slice s of K for batch entry b runs as workgroup z = s * batch + b and writes its
  // partial C to scratch (slices, batch, M, N); the reduction sums the slices in order.
  const launch = baseLaunch(splitInner(e), p);
  const { slices, kChunk } = splitSlices(e, p, workgroups(launch, p));
  const partials = scratch(e, 'matmul split-k', [slices, p.batch, p.M, p.N]);
  const [first, reduce] = await Promise.all([
    e.pipelines.get(pipelineSpec(launch)),
    e.pipelines.get({ label: 'matmul_splitk_reduce', code: `${epilogue}\n${reduceCode}`, constants: { WG: REDUCE_WG } }),
  ]);
  const grid = [ceilDiv(p.N, launch.cols), ceilDiv(p.M, launch.rows), p.batch * slices] as const;
  e.rec.dispatch(first, [partials, bias, e.rec.params(params(p, kChunk, layout | PARTIAL, 1, slices)), a, b], grid);
  e.rec.dispatch(reduce, [c, bias, e.rec.params(params(p, kChunk, flags, alpha, slices)), partials], grid1d(ceilDiv(p.batch * p.M * p.N, REDUCE_WG), maxDim));
}

/** The shapes of the matmuls `run` launches (e.g. one training step of a model, to tune them). */
export async function collectMatmulShapes(run: () => Promise<void>): Promise<MatmulShape[]> {
  const shapes: MatmulShape[] = [];
  shapeObserver = (p) => shapes.push({ M: p.M, N: p.N, K: p.K, batch: p.batch, transA: p.transA, transB: p.transB });
  try {
    await run();
  } finally {
    shapeObserver = null;
  }
  return shapes;
}

/** Describes what `matmul` would launch (for benchmarks and logs). */
export function describeMatmul(e: Engine, s: MatmulShape, variant = chooseMatmulVariant(e, s)): string {
  const p = fullShape(s);
  if (variant !== 'splitk') return `${variant} ${baseLaunch(variant, p).label}`;
  const inner = baseLaunch(splitInner(e), p);
  return `splitk x${splitSlices(e, p, workgroups(inner, p)).slices} over ${inner.label}`;
}

// ---- Tuning ----------------------------------------------------------------------------------

const rates = new WeakMap<Engine, Map<MatmulVariant, number>>();

/** GFLOP/s of every available variant on one small problem: to skip hopeless candidates in trials. */
async function calibrate(e: Engine): Promise<Map<MatmulVariant, number>> {
  const known = rates.get(e);
  if (known) return known;
  const [M, N, K] = [128, 128, 256];
  const [a, b, c] = [e.pool.tensor([M, K]), e.pool.tensor([K, N]), e.pool.tensor([M, N])];
  for (const t of [a, b]) fill(e.gpu, t, 0);
  const out = new Map<MatmulVariant, number>();
  try {
    for (const variant of availableMatmulVariants(e)) {
      for (let i = 0; i < 2; i++) {
        await matmul(e, a, b, c, { variant });
        const t0 = performance.now();
        e.rec.submit();
        await e.rec.done();
        if (i === 1) out.set(variant, (2 * M * N * K) / ((performance.now() - t0) * 1e6));
      }
    }
  } finally {
    for (const t of [a, b, c]) e.pool.release(t);
  }
  rates.set(e, out);
  return out;
}

export interface TuneOptions {
  /** Timed launches per candidate after the warm-up (default 2). */
  samples?: number;
  /** Candidates whose estimated time (from the calibration) exceeds this many times the best estimate are skipped (default 4). */
  slack?: number;
}

/**
 * Times the plausible variants on each shape (one trial per shape class, skipping classes already
 * remembered for this adapter) and remembers the fastest, so `matmul` picks it without a trial.
 * Run at startup: the trial costs a few launches of each shape. Returns the choice per class.
 */
export async function tuneMatmul(e: Engine, shapes: readonly MatmulShape[], opts: TuneOptions = {}): Promise<Map<string, MatmulVariant>> {
  await loadRememberedVariants(e);
  const chosen = new Map<string, MatmulVariant>();
  for (const s of shapes) {
    const cls = matmulClass(s);
    if (chosen.has(cls)) continue;
    const known = rememberedVariant(e, KERNEL, cls);
    if (known && availableMatmulVariants(e).includes(known as MatmulVariant)) {
      chosen.set(cls, known as MatmulVariant);
      continue;
    }
    const rate = await calibrate(e);
    const best = Math.max(...rate.values());
    const candidates = availableMatmulVariants(e).filter((v) => (rate.get(v) ?? 0) * (opts.slack ?? 4) >= best);
    const p = fullShape(s);
    const lead = p.batch > 1 ? [p.batch] : [];
    const a = e.pool.tensor([...lead, ...(p.transA ? [p.K, p.M] : [p.M, p.K])]);
    const b = e.pool.tensor([...lead, ...(p.transB ? [p.N, p.K] : [p.K, p.N])]);
    const c = e.pool.tensor([...lead, p.M, p.N]);
    for (const t of [a, b]) fill(e.gpu, t, 0);
    try {
      const results = await runTrial(
        e,
        KERNEL,
        cls,
        candidates.map((variant) => ({ variant, record: () => matmul(e, a, b, c, { transA: p.transA, transB: p.transB, variant }) })),
        opts.samples ?? 2,
      );
      chosen.set(cls, results[0].variant as MatmulVariant);
    } finally {
      for (const t of [a, b, c]) e.pool.release(t);
    }
  }
  return chosen;
}
