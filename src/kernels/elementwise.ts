import code from '../../shaders/elementwise.wgsl?raw';
import type { Engine } from '../gpu/engine';
import { type Tensor, expectDType, numel } from '../gpu/tensor';
import type { Binding } from '../gpu/recorder';
import { ceilDiv } from './grid';
import { expectLike } from './shape';

const WG = 64;
/** Grid-stride kernels dispatch at most this many workgroups (1D); each invocation loops over the rest. */
const MAX_STRIDE_WORKGROUPS = 1024;

/** The 1D grid of a grid-stride kernel over n elements. */
export function strideGrid(n: number, wg: number): [number] {
  return [Math.min(ceilDiv(n, wg), MAX_STRIDE_WORKGROUPS)];
}

async function run(e: Engine, entryPoint: string, n: number, alpha: number, tensors: Binding[], copy = { cols: 1, src: 0, dst: 0 }): Promise<void> {
  const pipeline = await e.pipelines.get({ label: `elementwise_${entryPoint}_wg${WG}`, code, entryPoint, constants: { WG } });
  const params = e.rec.params([['u32', n], ['f32', alpha], ['u32', copy.cols], ['u32', copy.src], ['u32', copy.dst]]);
  e.rec.dispatch(pipeline, [params, ...tensors], strideGrid(n, WG));
}

// a, b and out have one shape (any): out = a + b
export async function add(e: Engine, a: Tensor, b: Tensor, out: Tensor): Promise<void> {
  expectLike(a, out, 'add a');
  expectLike(b, out, 'add b');
  await run(e, 'add', numel(out.shape), 0, [a, b, out]);
}

// acc and b have one shape (any): acc += b  (e.g. the residual stream)
export async function addInPlace(e: Engine, acc: Tensor, b: Tensor): Promise<void> {
  expectLike(b, acc, 'addInPlace b');
  await run(e, 'add_inplace', numel(acc.shape), 0, [acc, b]);
}

// a and out have one shape (any): out = alpha * a
export async function scale(e: Engine, a: Tensor, out: Tensor, alpha: number): Promise<void> {
  expectLike(a, out, 'scale a');
  await run(e, 'scale', numel(out.shape), alpha, [a, out]);
}

// acc is any shape: acc *= alpha
export async function scaleInPlace(e: Engine, acc: Tensor, alpha: number): Promise<void> {
  expectDType(acc, 'f32', 'scaleInPlace acc');
  await run(e, 'scale_inplace', numel(acc.shape), alpha, [acc]);
}

// out is any shape: out = value  (for zeros, encoder.clearBuffer is cheaper)
export async function fillWith(e: Engine, out: Tensor, value: number): Promise<void> {
  expectDType(out, 'f32', 'fillWith out');
  await run(e, 'fill', numel(out.shape), value, [out]);
}

export interface Copy2D {
  rows: number;
  cols: number;
  /** Elements between consecutive source rows (>= cols). */
  srcStride: number;
  /** Elements between consecutive destination rows (>= cols). */
  dstStride: number;
}

// src and dst are flat f32 views: dst[r*dstStride + c] = src[r*srcStride + c] for r < rows, c < cols
// (e.g. write a (T, HS) block into a KV cache, or take one head out of a fused tensor)
export async function copy2d(e: Engine, src: Tensor, dst: Tensor, s: Copy2D): Promise<void> {
  expectDType(src, 'f32', 'copy2d src');
  expectDType(dst, 'f32', 'copy2d dst');
  if (s.rows === 0 || s.cols === 0) return;
  if (s.srcStride < s.cols || s.dstStride < s.cols) throw new RangeError(`copy2d: strides (${s.srcStride}, ${s.dstStride}) must be >= cols ${s.cols}`);
  const need = (stride: number) => (s.rows - 1) * stride + s.cols;
  if (need(s.srcStride) > numel(src.shape)) throw new RangeError(`copy2d: reads ${need(s.srcStride)} elements of src, which has ${numel(src.shape)}`);
  if (need(s.dstStride) > numel(dst.shape)) throw new RangeError(`copy2d: writes ${need(s.dstStride)} elements of dst, which has ${numel(dst.shape)}`);
  await run(e, 'copy2d', s.rows * s.cols, 0, [src, dst], { cols: s.cols, src: s.srcStride, dst: s.dstStride });
}
