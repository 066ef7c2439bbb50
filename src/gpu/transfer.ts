// Upload and asynchronous readback. Readback copies into a MAP_READ staging buffer and maps it,
// so the caller awaits only the data it asked for.
import type { Gpu } from './device';
import { type Tensor, byteLength, numel } from './tensor';

type TypedArray = Float32Array | Int32Array | Uint32Array;

export function upload(gpu: Gpu, t: Tensor, data: ArrayBufferView): void {
  if (data.byteLength !== byteLength(t)) {
    throw new RangeError(`upload to ${t.label ?? 'tensor'}[${t.shape}]: ${data.byteLength} bytes given, ${byteLength(t)} expected`);
  }
  gpu.device.queue.writeBuffer(t.buffer, t.offset, data.buffer, data.byteOffset, data.byteLength);
}

/** Create a GPU tensor holding `data` (owned by the caller: destroy `t.buffer` when done). */
export function createTensor(gpu: Gpu, data: TypedArray, shape: readonly number[], label?: string): Tensor {
  if (numel(shape) !== data.length) throw new RangeError(`createTensor: shape [${shape}] has ${numel(shape)} elements, data has ${data.length}`);
  const dtype = data instanceof Float32Array ? 'f32' : data instanceof Int32Array ? 'i32' : 'u32';
  const size = Math.max(16, Math.ceil(data.byteLength / 4) * 4);
  const buffer = gpu.device.createBuffer({ size, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST, label });
  const t: Tensor = { buffer, offset: 0, shape: [...shape], dtype, label };
  if (data.byteLength) upload(gpu, t, data);
  return t;
}

/** Fill a tensor with one value by bit pattern (e.g. NaN to poison outputs in tests). */
export function fill(gpu: Gpu, t: Tensor, value: number): void {
  const n = numel(t.shape);
  const data = t.dtype === 'f32' ? new Float32Array(n).fill(value) : t.dtype === 'i32' ? new Int32Array(n).fill(value) : new Uint32Array(n).fill(value);
  upload(gpu, t, data);
}

async function readBytes(gpu: Gpu, t: Tensor): Promise<ArrayBuffer> {
  const size = byteLength(t);
  const staging = gpu.device.createBuffer({ size: Math.max(4, Math.ceil(size / 4) * 4), usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  try {
    const enc = gpu.device.createCommandEncoder({ label: 'readback' });
    enc.copyBufferToBuffer(t.buffer, t.offset, staging, 0, staging.size);
    gpu.device.queue.submit([enc.finish()]);
    await Promise.race([staging.mapAsync(GPUMapMode.READ), gpu.lost.then((e) => Promise.reject(e))]);
    gpu.throwIfFailed();
    return staging.getMappedRange().slice(0, size);
  } finally {
    staging.destroy();
  }
}

export async function readF32(gpu: Gpu, t: Tensor): Promise<Float32Array> {
  return new Float32Array(await readBytes(gpu, t));
}

export async function readI32(gpu: Gpu, t: Tensor): Promise<Int32Array> {
  return new Int32Array(await readBytes(gpu, t));
}

export async function readU32(gpu: Gpu, t: Tensor): Promise<Uint32Array> {
  return new Uint32Array(await readBytes(gpu, t));
}
