// GPU memory of a training setup. Two views:
// - counted: the pool's peak (activations, batch and token-index tensors, LoRA u/du, AdamW m and v;
//   in size-class-rounded buffers) plus the flat buffers outside the pool (parameters, gradients,
//   LoRA parameters and gradients).
// - device: every buffer created on the device, live at the peak (adds kernel scratch such as
//   split-K partials, the uniform arena and read-back staging), from a wrapper on createBuffer.
import type { Engine } from '../../src/gpu/engine';
import { activationBytes } from '../../src/model/activations';
import type { Transformer } from '../../src/model/transformer';
import type { AdamW } from '../../src/train/optimizer';

export class DeviceMemoryMeter {
  live = 0;
  peak = 0;

  /** Wraps `device.createBuffer` so every buffer (and its destroy) is tallied. */
  static install(device: GPUDevice): DeviceMemoryMeter {
    const meter = new DeviceMemoryMeter();
    const create = device.createBuffer.bind(device);
    device.createBuffer = (desc: GPUBufferDescriptor): GPUBuffer => {
      const buf = create(desc);
      meter.add(buf.size);
      const destroy = buf.destroy.bind(buf);
      let destroyed = false;
      buf.destroy = (): undefined => {
        if (!destroyed) meter.add(-buf.size);
        destroyed = true;
        return destroy();
      };
      return buf;
    };
    return meter;
  }

  private add(bytes: number): void {
    this.live += bytes;
    this.peak = Math.max(this.peak, this.live);
  }
}

export interface MemoryReport {
  params: number;
  grads: number;
  /** AdamW m and v. */
  moments: number;
  /** activationBytes(cfg, B, T): saved activations + backward scratch + logits. */
  activations: number;
  /** Pool peak + flat buffers. */
  counted: number;
  device: number;
}

const bytesOf = (t: { buffer: GPUBuffer } | null | undefined): number => t?.buffer.size ?? 0;

export function memoryReport(e: Engine, model: Transformer, opt: AdamW, meter: DeviceMemoryMeter): MemoryReport {
  const params = bytesOf(model.params.flat) + bytesOf(model.loraParams?.flat);
  const grads = bytesOf(model.grads?.flat) + bytesOf(model.loraGrads?.flat);
  const { B, T } = model.opts;
  return {
    params,
    grads,
    moments: bytesOf(opt.m) + bytesOf(opt.v),
    activations: activationBytes(model.cfg, B, T),
    counted: e.pool.stats.peak + params + grads,
    device: meter.peak,
  };
}
