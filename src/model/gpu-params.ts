// Flat GPU buffers in a parameter layout (llm.c style): one buffer, one tensor view per name.
// Parameters, gradients and AdamW moments of a model (or of its LoRA adapters) each use one.
import type { Engine } from '../gpu/engine';
import { type Tensor, tensor } from '../gpu/tensor';
import type { TensorSpec } from './param-layout';

export class FlatBuffer {
  readonly flat: Tensor;
  private readonly views = new Map<string, Tensor>();

  constructor(
    readonly e: Engine,
    readonly specs: readonly TensorSpec[],
    readonly totalElements: number,
    readonly label: string,
  ) {
    const bytes = Math.max(256, totalElements * 4);
    if (bytes > e.gpu.limits.maxBufferSize) {
      throw new RangeError(`${label}: ${bytes} bytes exceed this adapter's maxBufferSize (${e.gpu.limits.maxBufferSize}); use a smaller model or LoRA`);
    }
    const buffer = e.device.createBuffer({ size: bytes, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST, label });
    this.flat = tensor(buffer, [totalElements], 'f32', 0, label);
    for (const s of specs) this.views.set(s.name, tensor(buffer, s.shape, 'f32', s.offset * 4, `${label} ${s.name}`));
  }

  get(name: string): Tensor {
    const v = this.views.get(name);
    if (!v) throw new Error(`${this.label}: no tensor named ${name}`);
    return v;
  }

  has(name: string): boolean {
    return this.views.has(name);
  }

  /** Records a clear of the whole buffer into the current step. */
  zero(): void {
    this.e.rec.commandEncoder.clearBuffer(this.flat.buffer, 0, this.flat.buffer.size);
  }

  upload(data: Float32Array): void {
    if (data.length !== this.totalElements) throw new RangeError(`${this.label}: ${data.length} values given, layout has ${this.totalElements}`);
    this.e.device.queue.writeBuffer(this.flat.buffer, 0, data.buffer, data.byteOffset, data.byteLength);
  }

  destroy(): void {
    this.flat.buffer.destroy();
  }
}
