import body from '../../shaders/layernorm.wgsl?raw';
import type { Engine } from '../gpu/engine';
import type { Tensor } from '../gpu/tensor';
import { ceilDiv, grid1d } from './grid';
import { reduceCols } from './reduce';
import { type RowLayout, type RowVariantOptions, rowLayout } from './row-reduce';
import { scratch } from './scratch';
import { expectF32, expectLike, rowsOf } from './shape';

/** Rows per chunk of the weight-gradient partial sums (fixed: the summation order depends only on N). */
export const PARAM_CHUNK = 64;
/** Invocations per workgroup: one row's in the block variants, and the param_partials kernel's. */
const WG = 64;

export interface LayerNormOptions extends RowVariantOptions {
  /** Added to the variance (default 1e-5, GPT-2). */
  eps?: number;
}

export interface NormBackwardOptions extends RowVariantOptions {
  /** dweight (and dbias) += instead of = (gradient accumulation over micro-batches). */
  accumulate?: boolean;
  /** dinp += instead of = (e.g. into the residual stream's gradient). */
  accumulateInput?: boolean;
}

/** The pipeline of one entry point of a norm shader, in the row layout's variant. */
export async function normPipeline(e: Engine, name: string, layout: RowLayout, entryPoint: string, constants: Record<string, number>): Promise<GPUComputePipeline> {
  const flags = Object.entries(constants).map(([k, v]) => `_${k}${v}`).join('');
  return e.pipelines.get({ label: `${name}_${entryPoint}_${layout.variant}${flags}`, code: layout.code, entryPoint, constants });
}

// inp is (N,C) (leading dims such as (B,T) flatten into N), weight is (C), bias is (C);
// out is (N,C), mean is (N), rstd is (N)
export async function layernormForward(
  e: Engine, inp: Tensor, weight: Tensor, bias: Tensor, out: Tensor, mean: Tensor, rstd: Tensor, opts: LayerNormOptions = {},
): Promise<void> {
  const [N, C] = rowsOf(inp, 'layernormForward inp');
  expectF32(weight, [C], 'layernormForward weight');
  expectF32(bias, [C], 'layernormForward bias');
  expectLike(out, inp, 'layernormForward out');
  expectF32(mean, [N], 'layernormForward mean');
  expectF32(rstd, [N], 'layernormForward rstd');
  const layout = rowLayout(e, opts, 'layernormForward', body, N, WG);
  const pipe = await normPipeline(e, 'layernorm', layout, 'forward', { WG: layout.WG });
  const params = e.rec.params([['u32', N], ['u32', C], ['f32', opts.eps ?? 1e-5]]);
  e.rec.dispatch(pipe, [params, inp, weight, bias, out, mean, rstd], layout.grid);
}

// dout is (N,C), inp is (N,C), weight is (C), mean is (N), rstd is (N) (saved by the forward);
// dinp is (N,C), dweight is (C), dbias is (C)
// dweight/dbias: per-chunk partials (ceil(N/64), C) in scratch, then a deterministic column sum.
export async function layernormBackward(
  e: Engine, dout: Tensor, inp: Tensor, weight: Tensor, mean: Tensor, rstd: Tensor,
  dinp: Tensor, dweight: Tensor, dbias: Tensor, opts: NormBackwardOptions = {},
): Promise<void> {
  const [N, C] = rowsOf(inp, 'layernormBackward inp');
  expectLike(dout, inp, 'layernormBackward dout');
  expectF32(weight, [C], 'layernormBackward weight');
  expectF32(mean, [N], 'layernormBackward mean');
  expectF32(rstd, [N], 'layernormBackward rstd');
  expectLike(dinp, inp, 'layernormBackward dinp');
  expectF32(dweight, [C], 'layernormBackward dweight');
  expectF32(dbias, [C], 'layernormBackward dbias');
  const layout = rowLayout(e, opts, 'layernormBackward', body, N, WG);
  const params = e.rec.params([['u32', N], ['u32', C], ['f32', 0]]);
  const bwd = await normPipeline(e, 'layernorm', layout, 'backward', { WG: layout.WG, ACCUMULATE: opts.accumulateInput ? 1 : 0 });
  e.rec.dispatch(bwd, [params, inp, weight, dout, dinp, mean, rstd], layout.grid);

  const K = ceilDiv(N, PARAM_CHUNK);
  const pw = scratch(e, 'layernorm.dweight', [K, C]);
  const pb = scratch(e, 'layernorm.dbias', [K, C]);
  const partials = await normPipeline(e, 'layernorm', layout, 'param_partials', { WG, RCH: PARAM_CHUNK });
  e.rec.dispatch(partials, [params, inp, pw, dout, pb, mean, rstd], grid1d(ceilDiv(K * C, WG), e.gpu.limits.maxComputeWorkgroupsPerDimension));
  await reduceCols(e, pw, dweight, { accumulate: opts.accumulate });
  await reduceCols(e, pb, dbias, { accumulate: opts.accumulate });
}
