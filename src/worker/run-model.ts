// Where a run's model comes from: a served HF folder (modelDir), a model stored in IndexedDB (modelId),
// random initialisation (model), or another run's checkpoint (fromRun, LoRA merged into that run's own
// base). A source gives its config cheaply (to check a run before it starts) and loads its tokenizer
// files and weights only when asked.
import { byteLevelTokenizerConfig, byteLevelTokenizerJson } from '../data/tokenizer/byte-level';
import { type ModelConfig, parseHfConfig } from '../model/config';
import { mergeLoraInto } from '../model/hf-weights';
import { initParams } from '../model/init';
import { loadModelFiles } from '../model/model-files';
import { type LoraSpec, paramLayout } from '../model/param-layout';
import { getCheckpointFile, listCheckpoints } from '../store/checkpoints';
import type { PlantuneDb } from '../store/db';
import { getModel } from '../store/models';
import { getRun } from '../store/runs';
import { loadStoredModelFiles } from './model-api';
import type { RunConfig } from './run-types';

/** tokenizer.json and tokenizer_config.json as text. */
export interface TokenizerFiles {
  json: string;
  config?: string;
}

export interface ModelSource {
  /** The model's name, e.g. for a PEFT adapter's base_model_name_or_path. */
  name: string;
  /** For messages: "/models/plantune-tiny/", "the stored model "x"", "run "y" at step 8". */
  label: string;
  config: ModelConfig;
  tokenizerFiles(): Promise<TokenizerFiles>;
  /** Flat parameters laid out by paramLayout(config). */
  weights(): Promise<Float32Array>;
}

/** Reports files loaded so far out of all. */
export type LoadProgress = (done: number, total: number) => void;

/** A chain of fromRun longer than this is taken for a cycle. */
const MAX_FROM_RUN_DEPTH = 16;

/** The run's LoRA spec on `config`: every linear of the family unless targets are given; alpha defaults to 2·rank. */
export function loraSpec(c: Pick<RunConfig, 'lora'>, config: ModelConfig): LoraSpec | undefined {
  if (!c.lora) return undefined;
  const { rank, alpha = 2 * rank, targets } = c.lora;
  const all = config.family === 'gpt2' ? ['c_attn', 'c_proj', 'c_fc'] : ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'];
  return { rank, alpha, targets: targets?.length ? targets : all };
}

async function tokenizerFrom(files: Map<string, Blob>, label: string): Promise<TokenizerFiles> {
  const json = files.get('tokenizer.json');
  if (!json) throw new Error(`${label} has no tokenizer.json: Plantune needs the model's tokenizer`);
  const config = files.get('tokenizer_config.json');
  return { json: await json.text(), ...(config ? { config: await config.text() } : {}) };
}

/** Loads the files once, whichever of tokenizerFiles() and weights() asks first. */
function filesSource(name: string, label: string, config: ModelConfig, load: () => Promise<Map<string, Blob>>): ModelSource {
  let files: Promise<Map<string, Blob>> | null = null;
  const get = () => (files ??= load());
  return {
    name, label, config,
    tokenizerFiles: async () => tokenizerFrom(await get(), label),
    weights: async () => (await loadModelFiles(await get())).params,
  };
}

// ---- a served folder ------------------------------------------------------------------------

const DIR_FILES = ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json'];

async function fetchFile(base: string, name: string): Promise<Blob | string> {
  const res = await fetch(`${base}${name}`).catch(() => null);
  // A dev server answers a missing file with its index.html.
  if (res?.ok && !res.headers.get('content-type')?.includes('text/html')) return res.blob();
  return `${base}${name} (${res ? (res.ok ? 'not found' : `HTTP ${res.status}`) : 'unreachable'})`;
}

async function dirSource(dir: string, progress?: LoadProgress): Promise<ModelSource> {
  const base = dir.endsWith('/') ? dir : `${dir}/`;
  const missing = (what: string[]) =>
    new Error(`the model files are missing: ${what.join(', ')}. Make the default model with "npm run make:default-model", or choose another model.`);
  const configFile = await fetchFile(base, 'config.json');
  if (typeof configFile === 'string') throw missing([configFile]);
  let json: unknown;
  try {
    json = JSON.parse(await configFile.text());
  } catch (e) {
    throw new Error(`${base}config.json is not valid JSON (${(e as Error).message})`);
  }
  return filesSource(base, base, parseHfConfig(json), async () => {
    const files = new Map<string, Blob>([['config.json', configFile]]);
    const absent: string[] = [];
    for (const [i, name] of DIR_FILES.entries()) {
      if (name !== 'config.json') {
        const got = await fetchFile(base, name);
        if (typeof got !== 'string') files.set(name, got);
        else if (name !== 'tokenizer_config.json') absent.push(got);
      }
      progress?.(i + 1, DIR_FILES.length);
    }
    if (absent.length) throw missing(absent);
    return files;
  });
}

// ---- a stored model -------------------------------------------------------------------------

async function storedSource(db: PlantuneDb, id: string, progress?: LoadProgress): Promise<ModelSource> {
  const record = await getModel(db, id);
  if (!record) throw new Error(`there is no stored model "${id}" (was it deleted?): import it again or choose another model`);
  return filesSource(record.name, `the stored model "${record.name}"`, parseHfConfig(record.config), async () => {
    progress?.(0, 1);
    const files = await loadStoredModelFiles(db, id);
    progress?.(1, 1);
    return files;
  });
}

// ---- random weights -------------------------------------------------------------------------

function randomSource(model: NonNullable<RunConfig['model']>): ModelSource {
  const config = parseHfConfig(model.config);
  return {
    name: `random-init-seed-${model.seed}`,
    label: 'the randomly initialised model',
    config,
    tokenizerFiles: async () => ({ json: JSON.stringify(byteLevelTokenizerJson()), config: JSON.stringify(byteLevelTokenizerConfig(config.maxT)) }),
    weights: async () => initParams(paramLayout(config), model.seed),
  };
}

// ---- another run ----------------------------------------------------------------------------

async function checkpointFile(db: PlantuneDb, runId: string, step: number, name: string, label: string): Promise<Float32Array> {
  const blob = await getCheckpointFile(db, runId, step, name);
  if (!blob) throw new Error(`${label} lost its file "${name}"`);
  return new Float32Array(await blob.arrayBuffer());
}

/**
 * The model run `runId` trained, as of its checkpoint at `step` (default: its latest): the full parameters
 * it saved, or its LoRA adapters merged into its own base. The config and tokenizer are its base's.
 */
export async function runSource(db: PlantuneDb, runId: string, step?: number, progress?: LoadProgress, depth = 0): Promise<ModelSource & { step: number }> {
  if (depth > MAX_FROM_RUN_DEPTH) throw new Error(`runs start from each other more than ${MAX_FROM_RUN_DEPTH} deep (a cycle through run "${runId}"?)`);
  const run = await getRun(db, runId);
  if (!run) throw new Error(`there is no run "${runId}" to start from (was it deleted?)`);
  const checkpoints = await listCheckpoints(db, runId);
  const ckpt = step === undefined ? checkpoints.at(-1) : checkpoints.find((c) => c.step === step);
  if (!ckpt) {
    const kept = checkpoints.length ? `it keeps the checkpoints of steps ${checkpoints.map((c) => c.step).join(', ')}` : 'it has no checkpoint yet';
    throw new Error(`run "${run.name}" has no checkpoint${step === undefined ? '' : ` at step ${step}`} to start from: ${kept}`);
  }
  const c = run.config as RunConfig;
  const base = await modelSource(db, c, progress, depth + 1);
  const label = `run "${run.name}" at step ${ckpt.step}`;
  const lora = loraSpec(c, base.config);
  return {
    name: `${run.name} (step ${ckpt.step})`, label, config: base.config, step: ckpt.step,
    tokenizerFiles: () => base.tokenizerFiles(),
    weights: async () => {
      if (!lora) return checkpointFile(db, runId, ckpt.step, 'params', label);
      return mergeLoraInto(paramLayout(base.config, lora), await base.weights(), await checkpointFile(db, runId, ckpt.step, 'lora', label));
    },
  };
}

/** The settings of a run config that name its model. */
export type ModelChoice = Pick<RunConfig, 'fromRun' | 'fromStep' | 'model' | 'modelId' | 'modelDir'>;

/** The model a (resolved) run config names (only its model fields are read: generation passes just those). */
export function modelSource(db: PlantuneDb, c: ModelChoice, progress?: LoadProgress, depth = 0): Promise<ModelSource> {
  if (c.fromRun !== undefined) return runSource(db, c.fromRun, c.fromStep, progress, depth);
  if (c.model) return Promise.resolve(randomSource(c.model));
  if (c.modelId !== undefined) return storedSource(db, c.modelId, progress);
  if (c.modelDir !== undefined) return dirSource(c.modelDir, progress);
  throw new Error('the run names no model: give modelDir, modelId, model or fromRun');
}
