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
}
