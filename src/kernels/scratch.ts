// Scratch space for multi-pass kernels (partial sums between passes). One persistent buffer per
// (engine, name), grown when a launch needs more. It is never handed back to the buffer pool, so
// work that is recorded but not yet submitted never finds its scratch reused by someone's upload;
// a buffer replaced by a larger one is dropped, not destroyed, because recorded work may still use it.
import type { Engine } from '../gpu/engine';
import { type Tensor, numel, tensor } from '../gpu/tensor';

const buffers = new WeakMap<Engine, Map<string, GPUBuffer>>();

/** An f32 tensor of `shape` in the scratch buffer `name` (contents undefined). */
export function scratch(e: Engine, name: string, shape: readonly number[]): Tensor {
  let byName = buffers.get(e);
  if (!byName) buffers.set(e, (byName = new Map()));
  const bytes = Math.max(16, numel(shape) * 4);
  let buf = byName.get(name);
  if (!buf || buf.size < bytes) {
    buf = e.device.createBuffer({ size: bytes, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST, label: `scratch ${name}` });
    byName.set(name, buf);
  }
  return tensor(buf, shape, 'f32', 0, `scratch ${name}`);
}
