// The dedicated worker that owns the GPU engine. The page talks to it only through Comlink.
import * as Comlink from 'comlink';
import { Engine } from '../gpu/engine';
import type { GpuDescription, GpuUnavailable, TrainerApi } from './api';

let engine: Promise<Engine> | null = null;

const api: TrainerApi = {
  async describeGpu(): Promise<GpuDescription | GpuUnavailable> {
    try {
      engine ??= Engine.create();
      const { gpu } = await engine;
      const l = gpu.limits;
      return {
        ok: true,
        adapter: gpu.adapter.name,
        isSoftware: gpu.adapter.isSoftware,
        features: [...gpu.features],
        limits: {
          maxBufferSize: l.maxBufferSize,
          maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
          maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
        },
      };
    } catch (e) {
      engine = null;
      return { ok: false, message: e instanceof Error ? e.message : String(e) };
    }
  },
};

Comlink.expose(api);
