// Step recorder: kernels record dispatches into one command encoder; `submit()` sends the whole
// step in one queue submission. Small uniform parameters go into one reusable arena buffer.
import type { Gpu } from './device';
import { BindingTooLargeError } from './errors';
import type { PassTimer } from './pass-timer';
import { type Tensor, byteLength } from './tensor';

export type Param = readonly ['u32' | 'i32' | 'f32', number];

/** Anything a kernel binds: a tensor, or a raw buffer range (uniform slots). */
export type Binding = Tensor | { buffer: GPUBuffer; offset: number; size: number };

const UNIFORM_ALIGN = 256;
/** 256 uniform slots; a step that needs more is split into several submits. */
const ARENA_BYTES = 64 * 1024;

export class Recorder {
  private encoder: GPUCommandEncoder | null = null;
  private arena: GPUBuffer | null = null;
  private readonly staging = new ArrayBuffer(ARENA_BYTES);
  private used = 0;
  /** Dispatches recorded since the last submit (for tests and benchmarks). */
  dispatches = 0;
  /** When set, every pass is timed (GPU time per kernel, for benchmarks and profiling). */
  timer: PassTimer | null = null;

  constructor(readonly gpu: Gpu) {}

  private get enc(): GPUCommandEncoder {
    this.encoder ??= this.gpu.device.createCommandEncoder({ label: 'step' });
    return this.encoder;
  }

  /**
   * Reserve a uniform slot holding `params` (each 4 bytes, in order, as the WGSL struct declares them).
   * When the arena is full the work recorded so far is submitted first, so slots are never overwritten early.
   */
  params(values: readonly Param[]): Binding {
    const size = Math.max(16, Math.ceil((values.length * 4) / 16) * 16);
    if (this.used + size > ARENA_BYTES) this.submit();
    const view = new DataView(this.staging, this.used, size);
    values.forEach(([type, v], i) => {
      if (type === 'f32') view.setFloat32(i * 4, v, true);
      else if (type === 'i32') view.setInt32(i * 4, v, true);
      else view.setUint32(i * 4, v, true);
    });
    this.arena ??= this.gpu.device.createBuffer({ size: ARENA_BYTES, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST, label: 'uniform arena' });
    const slot = { buffer: this.arena, offset: this.used, size };
    this.used += Math.ceil(size / UNIFORM_ALIGN) * UNIFORM_ALIGN;
    return slot;
  }

  /** Record one dispatch of `pipeline` with `bindings` at @group(0) @binding(0..n-1). */
  dispatch(pipeline: GPUComputePipeline, bindings: readonly Binding[], workgroups: readonly [number, number?, number?]): void {
    const maxDim = this.gpu.limits.maxComputeWorkgroupsPerDimension;
    const [x, y = 1, z = 1] = workgroups;
    if (x > maxDim || y > maxDim || z > maxDim) {
      throw new RangeError(`${pipeline.label}: dispatch [${x}, ${y}, ${z}] exceeds maxComputeWorkgroupsPerDimension ${maxDim}`);
    }
    if (x === 0 || y === 0 || z === 0) return;
    const entries: GPUBindGroupEntry[] = bindings.map((b, i) => {
      const isTensor = 'shape' in b;
      const size = isTensor ? Math.max(4, byteLength(b)) : b.size;
      if (isTensor && size > this.gpu.bindingLimit) {
        throw new BindingTooLargeError(`${pipeline.label}: binding ${i}, ${b.label ?? 'a tensor'} [${b.shape}] ${b.dtype},`, size, this.gpu.bindingLimit);
      }
      return { binding: i, resource: { buffer: b.buffer, offset: b.offset, size } };
    });
    const group = this.gpu.device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries, label: pipeline.label });
    const pass = this.enc.beginComputePass({ label: pipeline.label, timestampWrites: this.timer?.writes(pipeline.label) });
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, group);
    pass.dispatchWorkgroups(x, y, z);
    pass.end();
    this.dispatches++;
  }

  /** Record a buffer-to-buffer copy of a whole tensor. */
  copy(src: Tensor, dst: Tensor): void {
    if (byteLength(src) !== byteLength(dst)) throw new RangeError(`copy: ${byteLength(src)} bytes into ${byteLength(dst)}`);
    this.enc.copyBufferToBuffer(src.buffer, src.offset, dst.buffer, dst.offset, byteLength(src));
  }

  /** Access to the encoder for things kernels don't cover (timestamp queries, clears). */
  get commandEncoder(): GPUCommandEncoder {
    return this.enc;
  }

  /** Send everything recorded since the last submit in one queue submission. */
  submit(): void {
    this.gpu.throwIfFailed();
    if (this.used && this.arena) this.gpu.device.queue.writeBuffer(this.arena, 0, this.staging, 0, this.used);
    if (this.encoder) {
      this.timer?.resolve(this.encoder);
      this.gpu.device.queue.submit([this.encoder.finish()]);
    }
    this.encoder = null;
    this.used = 0;
    this.dispatches = 0;
  }

  /** Resolves when all submitted work has finished; rejects with DeviceLostError if the device is lost. */
  async done(): Promise<void> {
    const lost = this.gpu.lost.then((e): never => {
      throw e;
    });
    await Promise.race([this.gpu.device.queue.onSubmittedWorkDone(), lost]);
    if (this.gpu.isLost) throw await this.gpu.lost;
    this.gpu.throwIfFailed();
  }
}
