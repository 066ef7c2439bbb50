// GPU time per kernel from timestamp queries. While a PassTimer is attached to the Recorder
// (`e.rec.timer`), every compute pass writes a timestamp at its start and end; each submit
// resolves its passes' timestamps into a buffer of its own, and `collect()` (after the work is
// done) reads them back and sums the time and the count of passes by pipeline label. For
// benchmarks and profiling: timestamps cost a little, and adapters without `timestamp-query`
// cannot have one.
import type { Gpu } from './device';

/** Passes timed per submit; later passes of the same submit run untimed (counted in `untimed`). */
const PASSES_PER_SUBMIT = 1024;

interface Pending {
  labels: string[];
  resolved: GPUBuffer;
  read: GPUBuffer;
}

export interface KernelTime {
  label: string;
  ms: number;
  passes: number;
}

export class PassTimer {
  private querySet: GPUQuerySet | null = null;
  private labels: string[] = [];
  private readonly pending: Pending[] = [];
  private readonly totals = new Map<string, KernelTime>();
  /** Passes that ran without timestamps (over PASSES_PER_SUBMIT in one submit). */
  untimed = 0;

  constructor(private readonly gpu: Gpu) {
    if (!gpu.hasTimestamps) throw new Error(`PassTimer: this adapter (${gpu.adapter.name}) has no "timestamp-query" feature`);
  }

  /** The timestamp writes for the next pass of the current submit (undefined when the submit is full). */
  writes(label: string): GPUComputePassTimestampWrites | undefined {
    if (this.labels.length === PASSES_PER_SUBMIT) {
      this.untimed++;
      return undefined;
    }
    this.querySet ??= this.gpu.device.createQuerySet({ type: 'timestamp', count: 2 * PASSES_PER_SUBMIT, label: 'pass timer' });
    const i = this.labels.length;
    this.labels.push(label);
    return { querySet: this.querySet, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 };
  }

  /** Records the resolve of this submit's timestamps into `enc` (called by the Recorder before it submits). */
  resolve(enc: GPUCommandEncoder): void {
    if (!this.querySet || this.labels.length === 0) return;
    const bytes = 16 * this.labels.length;
    const device = this.gpu.device;
    const resolved = device.createBuffer({ size: bytes, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC, label: 'pass timer resolve' });
    const read = device.createBuffer({ size: bytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, label: 'pass timer read' });
    enc.resolveQuerySet(this.querySet, 0, 2 * this.labels.length, resolved, 0);
    enc.copyBufferToBuffer(resolved, 0, read, 0, bytes);
    this.pending.push({ labels: this.labels, resolved, read });
    // The next submit writes a fresh query set: this one's values are resolved by the work just recorded.
    this.querySet = null;
    this.labels = [];
  }

  /** Reads back every submitted pass's time (call after the work is done) and returns the totals, largest first. */
  async collect(): Promise<KernelTime[]> {
    for (const { labels, resolved, read } of this.pending.splice(0)) {
      await read.mapAsync(GPUMapMode.READ);
      const ns = new BigUint64Array(read.getMappedRange());
      labels.forEach((label, i) => {
        const t = this.totals.get(label) ?? { label, ms: 0, passes: 0 };
        t.ms += Number(ns[2 * i + 1] - ns[2 * i]) / 1e6;
        t.passes++;
        this.totals.set(label, t);
      });
      read.unmap();
      read.destroy();
      resolved.destroy();
    }
    return [...this.totals.values()].sort((a, b) => b.ms - a.ms);
  }
}
