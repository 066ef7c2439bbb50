// The dedicated worker that owns the GPU engine and the database. The page talks to it only through Comlink.
import * as Comlink from 'comlink';
import { Engine } from '../gpu/engine';
import { openPlantuneDb, type PlantuneDb } from '../store/db';
import type { GpuDescription, GpuUnavailable, TrainerApi } from './api';
import { createDataApi } from './data-api';
import { createModelApi } from './model-api';
import { createRunApi } from './run-api';
import { createRunResultsApi } from './run-results-api';
import { createTeacherApi } from './teacher-api';

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

/** The engine, created once; created again after a failed creation or a lost device. */
async function getEngine(): Promise<Engine> {
  const current = await engine?.catch(() => null);
  if (current && !current.gpu.isLost) return current;
  engine = Engine.create();
  return engine;
}

const runs = createRunApi({ openDb, engine: getEngine, gpuBusy: () => (results.isGenerating() ? 'answers are being generated on the GPU' : null) });
const results = createRunResultsApi({ openDb, engine: getEngine, isTraining: runs.isTraining });

const api: TrainerApi = {
  async describeGpu(): Promise<GpuDescription | GpuUnavailable> {
    try {
      const { gpu } = await getEngine();
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
  ...createModelApi({ openDb, engine: getEngine }),
  ...runs,
  ...results,
  ...createTeacherApi({ openDb }),
};

Comlink.expose(api);
