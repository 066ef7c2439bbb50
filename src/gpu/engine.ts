// The engine bundles what every kernel launcher needs: the device, the buffer pool,
// the pipeline cache and the step recorder. One per worker (or page).
import { BufferPool } from './buffer-pool';
import { type Gpu, type GpuOptions, acquireGpu } from './device';
import { PipelineCache } from './pipeline-cache';
import { Recorder } from './recorder';

export class Engine {
  readonly pool: BufferPool;
  readonly pipelines: PipelineCache;
  readonly rec: Recorder;

  constructor(readonly gpu: Gpu) {
    this.pool = new BufferPool(gpu);
    this.pipelines = new PipelineCache(gpu);
    this.rec = new Recorder(gpu);
  }

  static async create(opts: GpuOptions = {}): Promise<Engine> {
    return new Engine(await acquireGpu(opts));
  }

  get device(): GPUDevice {
    return this.gpu.device;
  }

  /** Largest storage binding a kernel may use, in bytes (Gpu.bindingLimit); tensors above it are split. */
  get bindingLimit(): number {
    return this.gpu.bindingLimit;
  }

  /** Lower the binding limit to exercise the split paths (tests); `null` restores the device's limit. */
  set bindingLimit(bytes: number | null) {
    this.gpu.bindingLimit = bytes;
  }
}
