import body from '../../shaders/rmsnorm.wgsl?raw';
import type { Engine } from '../gpu/engine';
import type { Tensor } from '../gpu/tensor';
import { ceilDiv, grid1d } from './grid';
import { type NormBackwardOptions, PARAM_CHUNK, normPipeline } from './layernorm';
import { reduceCols } from './reduce';
import { type RowVariantOptions, rowLayout } from './row-reduce';
import { scratch } from './scratch';
import { expectF32, expectLike, rowsOf } from './shape';

/** Invocations per workgroup: one row's in the block variants, and the param_partials kernel's. */
const WG = 64;

export interface RMSNormOptions extends RowVariantOptions {
  /** Added to the mean square (default 1e-5; take `rms_norm_eps` from the model config). */
  eps?: number;
}

// inp is (N,C) (leading dims such as (B,T) flatten into N), weight is (C); out is (N,C), rstd is (N)
export async function rmsnormForward(e: Engine, inp: Tensor, weight: Tensor, out: Tensor, rstd: Tensor, opts: RMSNormOptions = {}): Promise<void> {
  const [N, C] = rowsOf(inp, 'rmsnormForward inp');
  expectF32(weight, [C], 'rmsnormForward weight');
  expectLike(out, inp, 'rmsnormForward out');
  expectF32(rstd, [N], 'rmsnormForward rstd');
  const layout = rowLayout(e, opts, 'rmsnormForward', body, N, WG);
  const pipe = await normPipeline(e, 'rmsnorm', layout, 'forward', { WG: layout.WG });
  const params = e.rec.params([['u32', N], ['u32', C], ['f32', opts.eps ?? 1e-5]]);
  e.rec.dispatch(pipe, [params, inp, weight, out, rstd], layout.grid);
}

// dout is (N,C), inp is (N,C), weight is (C), rstd is (N) (saved by the forward); dinp is (N,C), dweight is (C)
// dweight: per-chunk partials (ceil(N/64), C) in scratch, then a deterministic column sum.
export async function rmsnormBackward(
  e: Engine, dout: Tensor, inp: Tensor, weight: Tensor, rstd: Tensor, dinp: Tensor, dweight: Tensor, opts: NormBackwardOptions = {},
): Promise<void> {
  const [N, C] = rowsOf(inp, 'rmsnormBackward inp');
  expectLike(dout, inp, 'rmsnormBackward dout');
  expectF32(weight, [C], 'rmsnormBackward weight');
  expectF32(rstd, [N], 'rmsnormBackward rstd');
  expectLike(dinp, inp, 'rmsnormBackward dinp');
  expectF32(dweight, [C], 'rmsnormBackward dweight');
  const layout = rowLayout(e, opts, 'rmsnormBackward', body, N, WG);
  const params = e.rec.params([['u32', N], ['u32', C], ['f32', 0]]);
  const bwd = await normPipeline(e, 'rmsnorm', layout, 'backward', { WG: layout.WG, ACCUMULATE: opts.accumulateInput ? 1 : 0 });
  e.rec.dispatch(bwd, [params, inp, weight, dout, rstd, dinp], layout.grid);

  const K = ceilDiv(N, PARAM_CHUNK);
  const pw = scratch(e, 'rmsnorm.dweight', [K, C]);
  const partials = await normPipeline(e, 'rmsnorm', layout, 'param_partials', { WG, RCH: PARAM_CHUNK });
  e.rec.dispatch(partials, [params, inp, pw, dout, rstd], grid1d(ceilDiv(K * C, WG), e.gpu.limits.maxComputeWorkgroupsPerDimension));
  await reduceCols(e, pw, dweight, { accumulate: opts.accumulate });
}
