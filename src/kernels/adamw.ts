// AdamW over flat parameter / gradient / moment buffers, and the global gradient norm that feeds
// its clip scale, both without a readback. Weight decay is selected by element ranges known on
// the CPU from the parameter layout (nanoGPT: decay tensors of rank >= 2 only): the update runs
// one dispatch per maximal run of decayed / not-decayed elements, so a layout that stores the
// decayed tensors together costs 2 dispatches, and no mask buffer or per-element lookup is needed.
// Flat buffers larger than one binding (a 135M-parameter model is 540 MB) are bound window by
// window (src/kernels/split.ts): one dispatch per (window, run) pair.
import adamwCode from '../../shaders/adamw.wgsl?raw';
import normBody from '../../shaders/grad_norm.wgsl?raw';
import type { Engine } from '../gpu/engine';
import { type Tensor, numel, reshape } from '../gpu/tensor';
import { ceilDiv } from './grid';
import { strideGrid } from './elementwise';
import { type RowVariantOptions, rowLayout } from './row-reduce';
import { scratch } from './scratch';
import { expectF32 } from './shape';
import { type Chunk, chunkItems, elementChunk } from './split';

export interface AdamWHyper {
  lr: number;
  /** 1-based step number, for the bias corrections 1 - beta^step. */
  step: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
  /**
   * Element ranges [start, end) that get weight decay (sorted, disjoint); everything else gets none.
   * Default: every element is decayed.
   */
  decayRanges?: readonly (readonly [number, number])[];
}

/** Splits [0, P) into maximal runs of decayed / not-decayed elements. */
export function decayRuns(P: number, ranges: readonly (readonly [number, number])[] | undefined): { start: number; end: number; decay: boolean }[] {
  if (!ranges) return P > 0 ? [{ start: 0, end: P, decay: true }] : [];
  const runs: { start: number; end: number; decay: boolean }[] = [];
  const push = (start: number, end: number, decay: boolean) => {
    if (end <= start) return;
    const last = runs[runs.length - 1];
    if (last && last.decay === decay && last.end === start) last.end = end;
    else runs.push({ start, end, decay });
  };
  let at = 0;
  for (const [s, t] of ranges) {
    if (!(Number.isInteger(s) && Number.isInteger(t) && s >= at && t >= s && t <= P)) {
      throw new RangeError(`adamw decayRanges: [${s}, ${t}) is not sorted, disjoint and inside [0, ${P})`);
    }
    push(at, s, false);
    push(s, t, true);
    at = t;
  }
  push(at, P, false);
  return runs;
}

// params, grads, m, v are (P) (flat buffers or views of them); gradScale is (1), e.g. the clip
// scale written by gradNorm (a tensor holding 1 disables clipping). Updates params, m, v in place.
export async function adamw(e: Engine, params: Tensor, grads: Tensor, m: Tensor, v: Tensor, gradScale: Tensor, hp: AdamWHyper): Promise<void> {
  if (params.shape.length !== 1) throw new RangeError(`adamw params: expected a flat (P) tensor, got [${params.shape}]`);
  const P = params.shape[0];
  expectF32(params, [P], 'adamw params');
  expectF32(grads, [P], 'adamw grads');
  expectF32(m, [P], 'adamw m');
  expectF32(v, [P], 'adamw v');
  expectF32(gradScale, [1], 'adamw gradScale');
  if (!(hp.step >= 1)) throw new RangeError(`adamw: step must be >= 1 (1-based), got ${hp.step}`);
  const { lr, step, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weightDecay = 0 } = hp;
  const WG = 64;
  const pipeline = await e.pipelines.get({ label: `adamw_wg${WG}`, code: adamwCode, constants: { WG } });
  const bc1 = 1 - beta1 ** step;
  const bc2 = 1 - beta2 ** step;
  const runs = weightDecay === 0 ? decayRuns(P, undefined) : decayRuns(P, hp.decayRanges);
  // windows of the four buffers that each fit one binding: one window [0, P) when P fits
  for (const w of chunkItems(e, P, 4, 'adamw params, grads, m and v')) {
    const bound = [params, grads, m, v].map((t) => elementChunk(t, w));
    for (const run of runs) {
      // the part of the run inside the window, in window coordinates
      const start = Math.max(run.start, w.start) - w.start;
      const end = Math.min(run.end, w.start + w.count) - w.start;
      if (end <= start) continue;
      const slot = e.rec.params([
        ['u32', start], ['u32', end], ['f32', lr], ['f32', beta1], ['f32', beta2], ['f32', eps],
        ['f32', run.decay ? weightDecay : 0], ['f32', bc1], ['f32', bc2],
      ]);
      e.rec.dispatch(pipeline, [slot, ...bound, gradScale], strideGrid(end - start, WG));
    }
  }
}

/** Partial sums of the grad norm: at most this many workgroups, each over a contiguous chunk. */
const NORM_PARTIALS = 1024;
/** ...and chunks of at least this many elements. */
const NORM_MIN_CHUNK = 4096;

export interface GradNormOptions extends RowVariantOptions {
  /** Clip threshold for the scale (default Infinity: scale is 1). */
  maxNorm?: number;
}

// grads is any shape (the flat gradient buffer); norm is (1) = ||grads||_2 and scale is (1) =
// min(1, maxNorm / (norm + 1e-6)), ready for adamw's gradScale. Two passes, deterministic for a given
// size (and binding limit). Gradients larger than one binding are summed in chunks that are whole
// multiples of 64 elements and fit, bound a window of whole chunks at a time.
export async function gradNorm(e: Engine, grads: Tensor, norm: Tensor, scale: Tensor, opts: GradNormOptions = {}): Promise<void> {
  const P = numel(grads.shape);
  expectF32(grads, grads.shape, 'gradNorm grads');
  expectF32(norm, [1], 'gradNorm norm');
  expectF32(scale, [1], 'gradNorm scale');
  let K = Math.max(1, Math.min(NORM_PARTIALS, ceilDiv(P, NORM_MIN_CHUNK)));
  let chunk = Math.max(1, ceilDiv(P, K));
  let windows: Chunk[] = [{ start: 0, count: K }]; // in chunks
  if (P * 4 > e.bindingLimit) {
    chunk = Math.min(ceilDiv(chunk, 64) * 64, Math.floor(e.bindingLimit / 256) * 64);
    K = ceilDiv(P, chunk);
    windows = chunkItems(e, K, chunk * 4, 'gradNorm grads');
  }
  const layout = (rows: number) => rowLayout(e, opts, 'gradNorm', normBody, rows, 256);
  const one = layout(1); // variant, WG and code do not depend on the row count
  const tag = `${one.variant}_wg${one.WG}`;
  const partial = await e.pipelines.get({ label: `grad_norm_partial_${tag}`, code: one.code, entryPoint: 'partial', constants: { WG: one.WG } });
  const finish = await e.pipelines.get({ label: `grad_norm_finish_${tag}`, code: one.code, entryPoint: 'finish', constants: { WG: one.WG } });
  const maxNorm = opts.maxNorm ?? Infinity;
  const params = e.rec.params([['u32', P], ['u32', chunk], ['f32', maxNorm], ['u32', 0]]);
  const partials = scratch(e, 'gradNorm', [K]);
  const flat = reshape(grads, [P]);
  for (const w of windows) {
    // partial sums w.start .. w.start + w.count - 1 over elements [first, end)
    const first = w.start * chunk;
    const end = Math.min(P, (w.start + w.count) * chunk);
    const wParams = windows.length === 1 ? params : e.rec.params([['u32', end - first], ['u32', chunk], ['f32', maxNorm], ['u32', w.start]]);
    e.rec.dispatch(partial, [wParams, elementChunk(flat, { start: first, count: end - first }), partials], layout(w.count).grid);
  }
  e.rec.dispatch(finish, [params, partials, norm, scale], one.grid);
}
