import code from '../../shaders/reduce.wgsl?raw';
import type { Engine } from '../gpu/engine';
import { type Tensor, expectDType, expectShape } from '../gpu/tensor';
import { grid1d } from './grid';

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
