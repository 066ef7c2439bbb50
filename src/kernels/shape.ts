// Shape checks shared by the launchers: row-wise kernels take (..., C) tensors and treat every
// leading dimension as rows, so (B,T,C) and (N,C) are the same to them.
import { type Tensor, expectDType, expectShape, numel } from '../gpu/tensor';

/** [N, C] of an f32 tensor read as rows of its last dimension. */
export function rowsOf(t: Tensor, name: string): [number, number] {
  if (t.shape.length < 1) throw new RangeError(`${name}: expected at least one dimension, got a scalar`);
  expectDType(t, 'f32', name);
  const C = t.shape[t.shape.length - 1];
  return [C === 0 ? 0 : numel(t.shape) / C, C];
}

/** Throws unless `t` is an f32 tensor of exactly `like`'s shape. */
export function expectLike(t: Tensor, like: Tensor, name: string): void {
  expectShape(t, like.shape, name);
  expectDType(t, 'f32', name);
}

/** Throws unless `t` is an f32 tensor of `shape`. */
export function expectF32(t: Tensor, shape: readonly number[], name: string): void {
  expectShape(t, shape, name);
  expectDType(t, 'f32', name);
}
