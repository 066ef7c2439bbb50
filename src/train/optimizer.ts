// The optimizer step on the GPU: global gradient norm -> clip scale -> fused AdamW, with weight
// decay on the tensors the layout marks (rank >= 2, nanoGPT). Nothing is read back here; the
// norm stays on the GPU until the trainer asks for it.
import type { Engine } from '../gpu/engine';
import type { Tensor } from '../gpu/tensor';
import { adamw, gradNorm } from '../kernels/adamw';
import type { FlatBuffer } from '../model/gpu-params';

export interface AdamWConfig {
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** Clip the global gradient norm to this (Infinity = no clipping). */
  maxGradNorm: number;
}

export const DEFAULT_ADAMW: AdamWConfig = { beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1, maxGradNorm: 1 };

export class AdamW {
  readonly m: Tensor;
  readonly v: Tensor;
  /** (1): ‖g‖₂ before clipping, and the clip scale applied. */
  readonly norm: Tensor;
  readonly scale: Tensor;
  private readonly decayRanges: [number, number][];

  constructor(
    readonly e: Engine,
    readonly params: FlatBuffer,
    readonly grads: FlatBuffer,
    readonly cfg: AdamWConfig = DEFAULT_ADAMW,
  ) {
    const P = params.totalElements;
    this.m = e.pool.tensor([P], 'f32', 'adam m');
    this.v = e.pool.tensor([P], 'f32', 'adam v');
    this.norm = e.pool.tensor([1], 'f32', 'grad norm');
    this.scale = e.pool.tensor([1], 'f32', 'clip scale');
    const enc = e.device.createCommandEncoder();
    enc.clearBuffer(this.m.buffer);
    enc.clearBuffer(this.v.buffer);
    e.device.queue.submit([enc.finish()]);
    this.decayRanges = params.specs.filter((s) => s.decay && s.trainable !== false).map((s): [number, number] => [s.offset, s.offset + s.size]);
  }

  /** Records one update with learning rate `lr` at 1-based step `step`. */
  async step(lr: number, step: number): Promise<void> {
    const { e, cfg } = this;
    await gradNorm(e, this.grads.flat, this.norm, this.scale, { maxNorm: cfg.maxGradNorm });
    await adamw(e, this.params.flat, this.grads.flat, this.m, this.v, this.scale, {
      lr, step, beta1: cfg.beta1, beta2: cfg.beta2, eps: cfg.eps, weightDecay: cfg.weightDecay, decayRanges: this.decayRanges,
    });
  }

  destroy(): void {
    for (const t of [this.m, this.v, this.norm, this.scale]) this.e.pool.release(t);
  }
}
