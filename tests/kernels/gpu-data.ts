// Test data on the GPU for the pointwise kernel tests: tensors created from arrays (optionally as a
// view at a byte offset inside a larger buffer, as the model slices flat buffers), NaN-poisoned
// outputs, and one call that frees everything a test made.
import type { Engine } from '../../src/gpu/engine';
import { type Tensor, numel, tensor } from '../../src/gpu/tensor';
import { fill, readF32, readI32, upload } from '../../src/gpu/transfer';
import type { RowVariant } from '../../src/kernels/row-reduce';

type Data = Float32Array | Int32Array | Uint32Array;

export class GpuData {
  private buffers: GPUBuffer[] = [];

  constructor(private readonly e: Engine) {}

  /** A tensor holding `data`; with `offset` (bytes, a multiple of 256) it is a view into a larger buffer. */
  tensor(data: Data, shape: readonly number[], offset = 0): Tensor {
    if (numel(shape) !== data.length) throw new RangeError(`shape [${shape}] does not hold ${data.length} elements`);
    const dtype = data instanceof Float32Array ? 'f32' : data instanceof Int32Array ? 'i32' : 'u32';
    const buf = this.buffer(offset + Math.max(16, data.byteLength));
    const t = tensor(buf, shape, dtype, offset);
    if (data.length) upload(this.e.gpu, t, data);
    return t;
  }

  /** An output tensor filled with NaN (f32) or -1 (i32), so an element the kernel does not write fails. */
  poisoned(shape: readonly number[], dtype: 'f32' | 'i32' = 'f32', offset = 0): Tensor {
    const t = tensor(this.buffer(offset + Math.max(16, numel(shape) * 4)), shape, dtype, offset);
    fill(this.e.gpu, t, dtype === 'f32' ? NaN : -1);
    return t;
  }

  /** Submits whatever a failed test left recorded (it may use these buffers), then destroys them. */
  free(): void {
    try {
      this.e.rec.submit();
    } catch {
      // the failure is the test's own; it has been reported already
    }
    for (const b of this.buffers) b.destroy();
    this.buffers = [];
  }

  private buffer(size: number): GPUBuffer {
    const b = this.e.device.createBuffer({ size: Math.ceil(size / 4) * 4, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
    this.buffers.push(b);
    return b;
  }
}

/** Submit what was recorded and read `t` back. */
export async function run(e: Engine, t: Tensor): Promise<Float32Array> {
  e.rec.submit();
  return readF32(e.gpu, t);
}

export async function runI32(e: Engine, t: Tensor): Promise<Int32Array> {
  e.rec.submit();
  return readI32(e.gpu, t);
}

/** The row-reduction variants to test on this adapter: all of them (subgroups only when offered). */
export function rowVariants(e: Engine): RowVariant[] {
  return e.gpu.hasSubgroups ? ['serial', 'subgroups', 'workgroup'] : ['serial', 'workgroup'];
}

/** Central finite difference of f at x[i] (float64). */
export function finiteDiff(f: (x: Float64Array) => number, x: Float64Array, i: number, h = 1e-5): number {
  const xp = Float64Array.from(x);
  const xm = Float64Array.from(x);
  xp[i] += h;
  xm[i] -= h;
  return (f(xp) - f(xm)) / (2 * h);
}
