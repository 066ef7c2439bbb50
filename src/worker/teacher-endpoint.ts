// The teacher a job talks to: an OpenAI-compatible endpoint (HttpTeacher, the key kept in its private
// field), or a Plantune model loaded onto this GPU (src/teacher/local-teacher.ts). A local teacher gets
// a GPU device of its own, so a job can run while a training run uses the worker's engine; both are
// released when the job stops. The GPU modules are loaded only for a local teacher (the endpoint
// path also runs in Node tests, where WebGPU's globals do not exist).
import { loadTokenizer } from '../data/tokenizer/load';
import type { PlantuneDb } from '../store/db';
import { getModel } from '../store/models';
import { HttpTeacher, type TeacherLogEvent } from '../teacher/http-teacher';
import type { LocalTeacher } from '../teacher/local-teacher';
import type { Teacher } from '../teacher/types';
import type { ModelRef } from './model-types';
import { DEFAULT_MODEL_DIR } from './run-config';
import { refSource } from './run-results-api';
import type { StoredEndpoint } from './teacher-store';
import type { TeacherEndpoint } from './teacher-types';

export interface JobTeacher {
  teacher: Teacher;
  /** The local model, when the teacher is one (its prompts must fit its context). */
  local?: LocalTeacher;
  /** Frees the GPU (local teacher); nothing to do for an endpoint. */
  close(): void;
}

/** Checks an endpoint from the page and returns what is stored of it (never the key). */
export async function storedEndpoint(ep: TeacherEndpoint, db: () => Promise<PlantuneDb>): Promise<StoredEndpoint> {
  if (ep.kind === 'local') return { kind: 'local', model: ep.model, name: await localModelName(ep.model, db) };
  if (ep.kind !== undefined && ep.kind !== 'http') throw new Error(`Unknown teacher kind "${String((ep as { kind: unknown }).kind)}": use "http" or "local".`);
  for (const [name, v] of [['timeoutMs', ep.timeoutMs], ['maxRetries', ep.maxRetries]] as const) {
    if (v !== undefined && !(Number.isInteger(v) && v >= (name === 'timeoutMs' ? 1 : 0))) {
      throw new RangeError(`The teacher's ${name === 'timeoutMs' ? 'request timeout' : 'retry count'} must be a whole number${name === 'timeoutMs' ? ' of milliseconds above 0' : ' of at least 0'}, got ${v}.`);
    }
  }
  // Checked here (URL, model name, no credentials in the URL) so a bad endpoint fails before the job exists.
  const { endpoint, model } = new HttpTeacher({ baseUrl: ep.baseUrl, model: ep.model });
  return { kind: 'http', baseUrl: endpoint, model, ...(ep.timeoutMs !== undefined ? { timeoutMs: ep.timeoutMs } : {}), ...(ep.maxRetries !== undefined ? { maxRetries: ep.maxRetries } : {}) };
}

/** An endpoint teacher; `log` hears of requests, retries and give-ups (never their content or the key). */
export function httpTeacher(ep: Extract<StoredEndpoint, { kind: 'http' }>, apiKey: string | undefined, concurrency: number, log: (e: TeacherLogEvent) => void): JobTeacher {
  const teacher = new HttpTeacher({ baseUrl: ep.baseUrl, model: ep.model, apiKey, concurrency, timeoutMs: ep.timeoutMs, maxRetries: ep.maxRetries, log });
  return { teacher, close: () => undefined };
}

/** The name recorded as the teacher model: the folder's name, or the stored model's. */
async function localModelName(ref: ModelRef, db: () => Promise<PlantuneDb>): Promise<string> {
  if (ref.kind === 'stored') {
    const record = await getModel(await db(), ref.id);
    if (!record) throw new Error(`There is no stored model "${ref.id}" (was it deleted?): import it again or choose another model.`);
    return record.name;
  }
  const dir = ref.kind === 'dir' ? ref.dir : DEFAULT_MODEL_DIR;
  return dir.replace(/\/+$/, '').split('/').pop() || dir;
}

/** Loads a model onto a GPU device of its own and makes it a teacher. */
export async function localTeacher(ep: Extract<StoredEndpoint, { kind: 'local' }>, db: () => Promise<PlantuneDb>, say: (message: string) => void): Promise<JobTeacher> {
  say(`Loading the local teacher ${ep.name}…`);
  const source = await refSource(await db(), ep.model);
  const files = await source.tokenizerFiles();
  const tokenizer = await loadTokenizer(files.json, files.config);
  const params = await source.weights();
  const [{ Engine }, { createLocalTeacher }] = await Promise.all([import('../gpu/engine'), import('../teacher/local-teacher')]);
  const engine = await Engine.create();
  try {
    const local = createLocalTeacher(engine, { name: ep.name, config: source.config, params, tokenizer });
    say(`Loaded ${ep.name} (${(params.length / 1e6).toFixed(2)} M parameters, ${local.context} tokens of context, ${local.chatFormat === 'chat-template' ? 'its chat template' : 'plain-text chat'}).`);
    return {
      teacher: local.teacher,
      local,
      close: () => {
        local.destroy();
        engine.gpu.destroy();
      },
    };
  } catch (e) {
    engine.gpu.destroy();
    throw e;
  }
}
