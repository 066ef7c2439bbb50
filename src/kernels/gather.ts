import code from '../../shaders/gather_rows.wgsl?raw';
import type { Engine } from '../gpu/engine';
import { type Tensor, expectDType, expectShape } from '../gpu/tensor';
import { ceilDiv, grid1d } from './grid';
import { chunkItems, rowChunk } from './split';

// x is (R,C), idx is (B) i32 row numbers, out is (B,C): out[b,:] = x[idx[b],:]
// (the last prompt position's logits of each sequence, learned positions at per-row offsets).
// An x larger than one binding (the logits of a long batch) is bound a block of rows at a time.
export async function gatherRows(e: Engine, x: Tensor, idx: Tensor, out: Tensor): Promise<void> {
  if (x.shape.length !== 2) throw new RangeError(`gatherRows x: expected (R,C), got [${x.shape}]`);
  const [R, C] = x.shape;
  const B = idx.shape[0];
  expectShape(idx, [B], 'gatherRows idx');
  expectDType(idx, 'i32', 'gatherRows idx');
  expectShape(out, [B, C], 'gatherRows out');
  expectDType(x, 'f32', 'gatherRows x');
  expectDType(out, 'f32', 'gatherRows out');
  const WG = 64;
  const pipeline = await e.pipelines.get({ label: `gather_rows_wg${WG}`, code, constants: { WG } });
  for (const block of chunkItems(e, R, C * 4, 'gatherRows x')) {
    const params = e.rec.params([['u32', B], ['u32', C], ['u32', R], ['f32', NaN], ['u32', block.start], ['u32', block.count]]);
    e.rec.dispatch(pipeline, [params, rowChunk(x, block), idx, out], grid1d(ceilDiv(B * C, WG), e.gpu.limits.maxComputeWorkgroupsPerDimension));
  }
}
