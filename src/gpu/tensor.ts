// A tensor is a view into a GPU buffer: buffer, byte offset, shape, dtype. Row-major, contiguous.

export type DType = 'f32' | 'i32' | 'u32' | 'f16';

export const BYTES: Record<DType, number> = { f32: 4, i32: 4, u32: 4, f16: 2 };

export interface Tensor {
  readonly buffer: GPUBuffer;
  /** Byte offset into `buffer` (a multiple of the device's minStorageBufferOffsetAlignment when bound). */
  readonly offset: number;
  readonly shape: readonly number[];
  readonly dtype: DType;
  readonly label?: string;
}

export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function byteLength(t: Tensor): number {
  return numel(t.shape) * BYTES[t.dtype];
}

export function tensor(buffer: GPUBuffer, shape: readonly number[], dtype: DType = 'f32', offset = 0, label?: string): Tensor {
  const t: Tensor = { buffer, offset, shape: [...shape], dtype, label };
  if (offset + byteLength(t) > buffer.size) {
    throw new RangeError(`tensor ${label ?? ''}[${shape}] ${dtype} at offset ${offset} does not fit in a buffer of ${buffer.size} bytes`);
  }
  return t;
}

/** Throws a readable error unless `t` has exactly `shape` (use -1 for "any"). */
export function expectShape(t: Tensor, shape: readonly number[], name: string): void {
  const ok = t.shape.length === shape.length && shape.every((d, i) => d === -1 || d === t.shape[i]);
  if (!ok) throw new RangeError(`${name}: expected shape [${shape.map((d) => (d === -1 ? '*' : d))}], got [${t.shape}]`);
}

export function expectDType(t: Tensor, dtype: DType, name: string): void {
  if (t.dtype !== dtype) throw new TypeError(`${name}: expected ${dtype}, got ${t.dtype}`);
}

/** The same memory seen with another shape of the same element count. */
export function reshape(t: Tensor, shape: readonly number[]): Tensor {
  if (numel(shape) !== numel(t.shape)) throw new RangeError(`reshape ${t.label ?? ''}[${t.shape}] to [${shape}]: element counts differ`);
  return { ...t, shape: [...shape] };
}

/** A view of `shape` starting `elementOffset` elements into `t` (byte offset must stay 256-aligned to be bound). */
export function subview(t: Tensor, elementOffset: number, shape: readonly number[], label?: string): Tensor {
  const v: Tensor = { buffer: t.buffer, offset: t.offset + elementOffset * BYTES[t.dtype], shape: [...shape], dtype: t.dtype, label: label ?? t.label };
  if (elementOffset < 0 || elementOffset + numel(shape) > numel(t.shape)) {
    throw new RangeError(`subview [${shape}] at ${elementOffset} does not fit in ${t.label ?? 'tensor'}[${t.shape}]`);
  }
  return v;
}
