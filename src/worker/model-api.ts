// The worker's model handlers: describe the default model, a served folder or a stored model; what a
// run of it would take on this adapter; import dropped files or a hub repo (checked in full, then
// stored: see model-import.ts); list and delete stored models.
import type { Engine } from '../gpu/engine';
import { type FetchLike, type HubProgress, INDEX_FILE, SINGLE_FILE, loadHubModel, parseShardIndex } from '../io';
import { type ModelConfig, parseHfConfig } from '../model/config';
import { estimateMemory, fitGenRows, memoryLimits } from '../model/memory';
import { paramLayout } from '../model/param-layout';
import type { PlantuneDb } from '../store/db';
import { type ModelRecord, deleteModel, getModel, getModelFile, listModels } from '../store/models';
import { baseName, describeTokenizer, importModelFiles } from './model-import';
import type {
  HubImportOptions, MemoryEstimate, ModelApi, ModelDownloadProgress, ModelImportProgress, ModelInfo, ModelRef, StoredModelInfo,
} from './model-types';
import { DEFAULT_MODEL_DIR } from './run-config';
import { loraSpec } from './run-model';

export interface ModelApiDeps {
  openDb: () => Promise<PlantuneDb>;
  engine: () => Promise<Engine>;
  /** For served folders and the hub (default: the global fetch; tests give a fake). */
  fetch?: FetchLike;
  /** Hugging Face hub base URL (default https://huggingface.co). */
  hubEndpoint?: string;
}

/** Download progress goes to the page at most this often (and at each new file and the end). */
const PROGRESS_EVERY_MS = 100;

/** Every file of a stored model, by name, as the run loads it (loadModelFiles). */
export async function loadStoredModelFiles(db: PlantuneDb, id: string): Promise<Map<string, Blob>> {
  const record = await getModel(db, id);
  if (!record) throw new Error(`there is no stored model "${id}" (was it deleted?): import it again or choose another model`);
  const files = new Map<string, Blob>();
  for (const { name } of record.files) {
    const blob = await getModelFile(db, id, name);
    if (!blob) throw new Error(`the stored model "${record.name}" lost its file "${name}": delete it and import it again`);
    files.set(name, blob);
  }
  return files;
}

function info(ref: ModelRef, name: string, config: ModelConfig, tokenizer: string, files: ModelInfo['files']): ModelInfo {
  return {
    ref, name, architecture: config.architecture, family: config.family, params: paramLayout(config).numParams,
    layers: config.L, hidden: config.C, heads: config.NH, kvHeads: config.NKV, vocab: config.V, context: config.maxT,
    tiedEmbeddings: config.tiedEmbeddings, tokenizer, files,
  };
}

function parseStoredConfig(record: ModelRecord): ModelConfig {
  try {
    return parseHfConfig(record.config);
  } catch (e) {
    throw new Error(`the stored model "${record.name}" (${record.id}) has a config this version cannot read: ${e instanceof Error ? e.message : String(e)}`);
  }
}

async function storedInfo(db: PlantuneDb, record: ModelRecord): Promise<StoredModelInfo> {
  let tokenizer = record.meta?.tokenizer;
  if (tokenizer === undefined) {
    const [json, config] = await Promise.all([getModelFile(db, record.id, 'tokenizer.json'), getModelFile(db, record.id, 'tokenizer_config.json')]);
    tokenizer = json ? (await describeTokenizer(await json.text(), await config?.text())).summary : 'none (no tokenizer.json)';
  }
  const files = record.files.map(({ name, bytes }) => ({ name, bytes }));
  const base = info({ kind: 'stored', id: record.id }, record.name, parseStoredConfig(record), tokenizer, files);
  return { ...base, id: record.id, createdAt: record.createdAt, source: record.meta?.source ?? 'unknown' };
}

// ---- served folders ---------------------------------------------------------------------------

/** A file of a served folder, or why it is missing (a dev server answers a missing file with its index.html). */
async function served(fetchFn: FetchLike, url: string, method: 'GET' | 'HEAD'): Promise<Response | string> {
  const res = await fetchFn(url, { method }).catch(() => null);
  if (res?.ok && !res.headers.get('content-type')?.includes('text/html')) return res;
  return `${url} (${res ? (res.ok ? 'not found' : `HTTP ${res.status}`) : 'unreachable'})`;
}

async function servedConfig(fetchFn: FetchLike, base: string): Promise<{ config: ModelConfig; bytes: number }> {
  const res = await served(fetchFn, `${base}config.json`, 'GET');
  if (typeof res === 'string') throw new Error(`the model's config.json is missing: ${res}`);
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new Error(`${base}config.json is not valid JSON (${(e as Error).message})`);
  }
  return { config: parseHfConfig(json), bytes: new Blob([text]).size };
}

/** Bytes of a served file from a HEAD request (its body when the server gives no length), or null when missing. */
async function servedSize(fetchFn: FetchLike, url: string): Promise<number | null> {
  const head = await served(fetchFn, url, 'HEAD');
  if (typeof head === 'string') return null;
  const length = head.headers.get('content-length');
  if (length !== null && /^\d+$/.test(length) && head.headers.get('content-encoding') === null) return Number(length);
  const res = await served(fetchFn, url, 'GET');
  return typeof res === 'string' ? null : (await res.blob()).size;
}

async function describeServed(fetchFn: FetchLike, ref: ModelRef, dir: string): Promise<ModelInfo> {
  const base = dir.endsWith('/') ? dir : `${dir}/`;
  const { config, bytes } = await servedConfig(fetchFn, base);
  const files: ModelInfo['files'] = [{ name: 'config.json', bytes }];
  const add = async (name: string): Promise<boolean> => {
    const size = await servedSize(fetchFn, `${base}${name}`);
    if (size !== null) files.push({ name, bytes: size });
    return size !== null;
  };
  if (!(await add(SINGLE_FILE))) {
    const index = await served(fetchFn, `${base}${INDEX_FILE}`, 'GET');
    if (typeof index === 'string') throw new Error(`no weights in ${base}: neither ${SINGLE_FILE} nor ${INDEX_FILE} is there`);
    const text = await index.text();
    files.push({ name: INDEX_FILE, bytes: new Blob([text]).size });
    for (const shard of new Set(Object.values(parseShardIndex(text, INDEX_FILE).weight_map))) {
      if (!(await add(shard))) throw new Error(`${base}${shard}, a shard named in ${INDEX_FILE}, is missing`);
    }
  }
  let tokenizer = 'none (no tokenizer.json)';
  const tok = await served(fetchFn, `${base}tokenizer.json`, 'GET');
  if (typeof tok !== 'string') {
    const text = await tok.text();
    files.push({ name: 'tokenizer.json', bytes: new Blob([text]).size });
    const tc = await served(fetchFn, `${base}tokenizer_config.json`, 'GET');
    const tcText = typeof tc === 'string' ? undefined : await tc.text();
    if (tcText !== undefined) files.push({ name: 'tokenizer_config.json', bytes: new Blob([tcText]).size });
    tokenizer = (await describeTokenizer(text, tcText)).summary;
  }
  await add('generation_config.json');
  return info(ref, baseName(base.slice(0, -1)) || base, config, tokenizer, files);
}

// ---- the handlers -----------------------------------------------------------------------------

/** HubProgress as the page gets it: per file and over all files (their total is known only at the end). */
function downloadProgress(onProgress: (p: ModelDownloadProgress) => void): (p: HubProgress) => void {
  let last = -Infinity;
  let lastFile = '';
  return (p) => {
    const now = performance.now();
    if (!p.done && p.file === lastFile && now - last < PROGRESS_EVERY_MS) return;
    last = now;
    lastFile = p.file;
    onProgress({ file: p.file, loaded: p.fileLoaded, total: p.fileTotal, loadedAll: p.loaded, totalAll: p.done ? p.total : null });
  };
}

/** Files as the page got them, keyed by path inside the dropped folder ("folder/config.json") or by name. */
function droppedFiles(files: File[]): Map<string, Blob> {
  const map = new Map<string, Blob>();
  for (const f of files) {
    const key = f.webkitRelativePath || f.name;
    if (map.has(key)) throw new Error(`two of the files are named "${key}" (from different folders?): give only the model folder itself`);
    map.set(key, f);
  }
  return map;
}

export function createModelApi(deps: ModelApiDeps): ModelApi {
  const fetchFn: FetchLike = deps.fetch ?? ((url, init) => fetch(url, init));

  async function configOf(ref: ModelRef): Promise<ModelConfig> {
    if (ref.kind === 'stored') {
      const record = await getModel(await deps.openDb(), ref.id);
      if (!record) throw new Error(`there is no stored model "${ref.id}" (was it deleted?)`);
      return parseStoredConfig(record);
    }
    const dir = ref.kind === 'default' ? DEFAULT_MODEL_DIR : ref.dir;
    return (await servedConfig(fetchFn, dir.endsWith('/') ? dir : `${dir}/`)).config;
  }

  return {
    async describeModel(ref: ModelRef): Promise<ModelInfo> {
      if (ref.kind === 'stored') {
        const db = await deps.openDb();
        const record = await getModel(db, ref.id);
        if (!record) throw new Error(`there is no stored model "${ref.id}" (was it deleted?)`);
        return storedInfo(db, record);
      }
      return describeServed(fetchFn, ref, ref.kind === 'default' ? DEFAULT_MODEL_DIR : ref.dir);
    },

    async estimateMemory(ref: ModelRef, plan: { batch: number; seq: number; loraRank?: number; genRows?: number }): Promise<MemoryEstimate> {
      const config = await configOf(ref);
      const { gpu } = await deps.engine();
      const lora = plan.loraRank === undefined ? undefined : loraSpec({ lora: { rank: plan.loraRank } }, config);
      const limits = memoryLimits(gpu, (globalThis.navigator as { deviceMemory?: number } | undefined)?.deviceMemory);
      const base = { batch: plan.batch, seq: plan.seq, lora };
      // As a run does: as many generated rows as fit, of those it would like.
      return estimateMemory(config, { ...base, genRows: fitGenRows(config, base, limits, plan.genRows ?? plan.batch) }, limits);
    },

    async importModel(files: File[], name?: string, onProgress?: (p: ModelImportProgress) => void): Promise<StoredModelInfo> {
      const db = await deps.openDb();
      const record = await importModelFiles(db, droppedFiles(files), { name, source: 'files', onProgress });
      return storedInfo(db, record);
    },

    async importHubModel(repoId: string, onProgress?: (p: ModelDownloadProgress) => void, opts: HubImportOptions = {}): Promise<StoredModelInfo> {
      const repo = repoId.trim();
      const hub = await loadHubModel(repo, {
        fetch: fetchFn, endpoint: deps.hubEndpoint, revision: opts.revision, token: opts.token, onProgress: onProgress && downloadProgress(onProgress),
      });
      const db = await deps.openDb();
      const record = await importModelFiles(db, hub.files, { name: repo, source: `hub ${repo}@${hub.revision}` });
      return storedInfo(db, record);
    },

    async listModels(): Promise<StoredModelInfo[]> {
      const db = await deps.openDb();
      return Promise.all((await listModels(db)).map((r) => storedInfo(db, r)));
    },

    async deleteModel(id: string): Promise<void> {
      await deleteModel(await deps.openDb(), id);
    },
  };
}
