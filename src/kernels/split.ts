// Split bindings. A kernel binds each tensor as one storage-buffer range, and no range may exceed
// the binding limit (Engine.bindingLimit: the adapter's maxStorageBufferBindingSize, 128 MiB on
// many adapters, or less when a test lowers it). Launchers whose tensors can be larger — flat
// parameter buffers, the embedding table / LM head, logits — cut them into chunks of whole rows
// (or elements) that each fit and start at a multiple of minStorageBufferOffsetAlignment, and run
// their kernel once per chunk. When a tensor fits there is exactly one chunk, so the launch is the
// unsplit one.
import type { Engine } from '../gpu/engine';
import { BindingTooLargeError } from '../gpu/errors';
import { type Tensor, subview } from '../gpu/tensor';

/** Items [start, start + count) of a split: rows of a matrix, or elements of a flat buffer. */
export interface Chunk {
  start: number;
  count: number;
}

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
const lcm = (a: number, b: number): number => (a / gcd(a, b)) * b;

/** The smallest number of rows whose byte length is a multiple of the offset alignment for every one of these row sizes. */
export function rowAlignUnit(e: Engine, rowBytes: readonly number[]): number {
  const align = e.gpu.limits.minStorageBufferOffsetAlignment;
  return rowBytes.reduce((u, b) => lcm(u, align / gcd(b, align)), 1);
}

export interface ChunkOptions {
  /** Chunk starts are also multiples of this many items (e.g. 64 so that a column offset stays aligned). */
  unit?: number;
}

/**
 * Cuts `n` items of `itemBytes` bytes each into as few chunks as fit one binding each, every chunk
 * starting at a multiple of the offset alignment (and of `unit` items). One chunk [0, n) when all
 * fit. Throws BindingTooLargeError naming `what` when not even one aligned unit fits.
 */
export function chunkItems(e: Engine, n: number, itemBytes: number, what: string, opts: ChunkOptions = {}): Chunk[] {
  const limit = e.bindingLimit;
  if (n * itemBytes <= limit) return [{ start: 0, count: n }];
  const unit = lcm(rowAlignUnit(e, [itemBytes]), opts.unit ?? 1);
  const per = Math.floor(limit / itemBytes / unit) * unit;
  if (per === 0) throw new BindingTooLargeError(`${what} (the smallest aligned piece: ${unit} items of ${itemBytes} bytes)`, unit * itemBytes, limit);
  const chunks: Chunk[] = [];
  for (let start = 0; start < n; start += per) chunks.push({ start, count: Math.min(per, n - start) });
  return chunks;
}

/** Rows [c.start, c.start + c.count) of a 2-D tensor (R, C), as an (count, C) view. */
export function rowChunk(t: Tensor, c: Chunk): Tensor {
  const cols = t.shape[1];
  return subview(t, c.start * cols, [c.count, cols]);
}

/** Elements [c.start, c.start + c.count) of a tensor, as a flat (count) view. */
export function elementChunk(t: Tensor, c: Chunk): Tensor {
  return subview(t, c.start, [c.count]);
}
