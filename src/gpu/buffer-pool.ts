// Buffer pool: buffers are handed out by size class and returned for reuse, so a training
// step allocates nothing once warm. Tracks current and peak bytes held by live buffers.
import type { Gpu } from './device';
import { GpuOutOfMemoryError } from './errors';
import { sizeClass } from './size-class';
import { BYTES, type DType, type Tensor, numel, tensor } from './tensor';

const STORAGE = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;

export interface PoolStats {
  /** Bytes in buffers currently handed out. */
  inUse: number;
  /** Bytes in buffers the pool holds (in use + free). */
  held: number;
  /** The most ever in use at once. */
  peak: number;
  allocations: number;
  reuses: number;
}

export class BufferPool {
  private free = new Map<string, GPUBuffer[]>();
  private live = new Map<GPUBuffer, string>();
  readonly stats: PoolStats = { inUse: 0, held: 0, peak: 0, allocations: 0, reuses: 0 };

  constructor(private readonly gpu: Gpu) {}

  acquire(bytes: number, usage: GPUBufferUsageFlags = STORAGE, label?: string): GPUBuffer {
    if (bytes > this.gpu.limits.maxBufferSize) {
      throw new GpuOutOfMemoryError(
        `allocating ${label ?? 'a buffer'} of ${bytes} bytes (the adapter's maxBufferSize is ${this.gpu.limits.maxBufferSize})`,
      );
    }
    const size = sizeClass(bytes);
    const key = `${usage}:${size}`;
    let buf = this.free.get(key)?.pop();
    if (buf) this.stats.reuses++;
    else {
      buf = this.gpu.device.createBuffer({ size, usage, label });
      this.stats.allocations++;
      this.stats.held += size;
    }
    this.live.set(buf, key);
    this.stats.inUse += size;
    this.stats.peak = Math.max(this.stats.peak, this.stats.inUse);
    return buf;
  }

  /** A storage tensor of `shape` in a pooled buffer. Contents are undefined. */
  tensor(shape: readonly number[], dtype: DType = 'f32', label?: string): Tensor {
    return tensor(this.acquire(numel(shape) * BYTES[dtype], STORAGE, label), shape, dtype, 0, label);
  }

  release(buf: GPUBuffer | Tensor): void {
    const b = 'buffer' in buf ? buf.buffer : buf;
    const key = this.live.get(b);
    if (key === undefined) throw new Error(`release of a buffer the pool does not own (${b.label || 'unlabelled'}), or released twice`);
    this.live.delete(b);
    this.stats.inUse -= b.size;
    const list = this.free.get(key) ?? [];
    list.push(b);
    this.free.set(key, list);
  }

  /** Destroys the free buffers (live ones stay valid). */
  trim(): void {
    for (const list of this.free.values()) for (const b of list) {
      this.stats.held -= b.size;
      b.destroy();
    }
    this.free.clear();
  }
}
