import code from '../../shaders/reduce.wgsl?raw';
import colsCode from '../../shaders/reduce_cols.wgsl?raw';
import type { Engine } from '../gpu/engine';
import { type Tensor, expectDType, expectShape } from '../gpu/tensor';
import { ceilDiv, grid1d } from './grid';
import { scratch } from './scratch';

export type ReduceOp = 'sum' | 'sumsq';

// x is (R, N), out is (R): out[r] = sum_n x[r,n]  (op 'sumsq': sum_n x[r,n]^2)
export async function reduceRows(e: Engine, x: Tensor, out: Tensor, op: ReduceOp = 'sum'): Promise<void> {
  if (x.shape.length !== 2) throw new RangeError(`reduceRows: x must be (R, N), got [${x.shape}]`);
  const [R, N] = x.shape;
  expectShape(out, [R], 'reduceRows out');
  expectDType(x, 'f32', 'reduceRows x');
  expectDType(out, 'f32', 'reduceRows out');
  const WG = 64;
  const pipeline = await e.pipelines.get({ label: `reduce_${op}_wg${WG}`, code, constants: { WG, SQUARE: op === 'sumsq' ? 1 : 0 } });
  const params = e.rec.params([['u32', R], ['u32', N]]);
  e.rec.dispatch(pipeline, [x, out, params], grid1d(R, e.gpu.limits.maxComputeWorkgroupsPerDimension));
}

/** Rows per chunk of the first column-sum pass: fixed, so the summation order depends only on R. */
export const COL_CHUNK = 64;

export interface ReduceColsOptions {
  /** out += sums (gradient accumulation) instead of out = sums. */
  accumulate?: boolean;
}

// x is (R, C), out is (C): out[c] (+)= sum_r x[r,c]. Deterministic: one pass when R <= COL_CHUNK,
// else per-chunk partials (ceil(R/COL_CHUNK), C) in scratch, then a second pass over them.
export async function reduceCols(e: Engine, x: Tensor, out: Tensor, opts: ReduceColsOptions = {}): Promise<void> {
  if (x.shape.length !== 2) throw new RangeError(`reduceCols: x must be (R, C), got [${x.shape}]`);
  const [R, C] = x.shape;
  expectShape(out, [C], 'reduceCols out');
  expectDType(x, 'f32', 'reduceCols x');
  expectDType(out, 'f32', 'reduceCols out');
  if (R <= COL_CHUNK) return colSumPass(e, x, out, R, C, R, opts.accumulate ?? false);
  const K = ceilDiv(R, COL_CHUNK);
  const partial = scratch(e, 'reduceCols', [K, C]);
  await colSumPass(e, x, partial, R, C, COL_CHUNK, false);
  await colSumPass(e, partial, out, K, C, K, opts.accumulate ?? false);
}

/** One column-sum pass: out[k, c] (+)= sum of x rows [k*RCH, (k+1)*RCH) (x is (R, C)). */
async function colSumPass(e: Engine, x: Tensor, out: Tensor, R: number, C: number, RCH: number, accumulate: boolean): Promise<void> {
  const WG = 64;
  const pipeline = await e.pipelines.get({ label: `reduce_cols${accumulate ? '_acc' : ''}_wg${WG}`, code: colsCode, constants: { WG, ACCUMULATE: accumulate ? 1 : 0 } });
  const params = e.rec.params([['u32', R], ['u32', C], ['u32', Math.max(1, RCH)]]);
  e.rec.dispatch(pipeline, [params, x, out], grid1d(ceilDiv(ceilDiv(R, Math.max(1, RCH)) * C, WG), e.gpu.limits.maxComputeWorkgroupsPerDimension));
}
