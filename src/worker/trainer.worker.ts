// The dedicated worker that owns the GPU engine and the database. The page talks to it only through Comlink.
import * as Comlink from 'comlink';
import { Engine } from '../gpu/engine';
import { openPlantuneDb, type PlantuneDb } from '../store/db';
import type { GpuDescription, GpuUnavailable, TrainerApi } from './api';
import { createDataApi } from './data-api';

let engine: Promise<Engine> | null = null;
let db: Promise<PlantuneDb> | null = null;

/** The database, opened once for every handler; a failed open is retried on the next call. */
function openDb(): Promise<PlantuneDb> {
  db ??= openPlantuneDb().catch((e: unknown) => {
    db = null;
    throw e;
  });
  return db;
}

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
  ...createDataApi(openDb),
};

Comlink.expose(api);
