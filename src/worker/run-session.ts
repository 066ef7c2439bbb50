// Assembles what one SFT run trains: the model (a served HF folder, or random init), its tokenizer,
// tokenized train/eval data (synthetic or a stored dataset), the optimizer and the loop settings.
// The same config always builds the same session, so a resumed run restores into an identical one.
import { byteLevelTokenizerConfig, byteLevelTokenizerJson } from '../data/tokenizer/byte-level';
import { type Tokenizer, loadTokenizer } from '../data/tokenizer/load';
import type { Trajectory } from '../data/trajectory';
import type { Engine } from '../gpu/engine';
import { type ModelConfig, parseHfConfig } from '../model/config';
import { initLora, initParams } from '../model/init';
import { loadModelFiles } from '../model/model-files';
import type { LoraSpec } from '../model/param-layout';
import { Transformer } from '../model/transformer';
import { getTrajectories } from '../store/datasets';
import type { PlantuneDb } from '../store/db';
import { type PromptItem, type TokenizedExample, promptBatch, tokenizeExamples } from '../train/batches';
import { AdamW } from '../train/optimizer';
import type { SftConfig } from '../train/sft';
import { evalProblems, trainProblems } from '../train/synthetic-sets';
import type { RunConfig } from './run-types';

export const DEFAULT_MODEL_DIR = '/models/plantune-tiny/';

export interface RunSession {
  model: Transformer;
  opt: AdamW;
  tokenizer: Tokenizer;
  examples: TokenizedExample[];
  evalItems: PromptItem[];
  sft: SftConfig;
  destroy(): void;
}

/** Checks a config from the page and fills in the defaults (the stored config is this one). */
export function resolveConfig(c: RunConfig): RunConfig {
  if (c.mode !== 'sft') throw new Error(`mode "${String(c.mode)}" is not available in the worker yet: only sft`);
  const positive = { steps: c.steps, batch: c.batch, seq: c.seq, checkpointEvery: c.checkpointEvery, accum: c.accum ?? 1, logEvery: c.logEvery ?? 1, keepLast: c.keepLast ?? 2 };
  for (const [k, v] of Object.entries(positive)) if (!Number.isInteger(v) || v < 1) throw new RangeError(`${k} must be a positive integer, got ${v}`);
  if (!(c.lr > 0)) throw new RangeError(`lr must be positive, got ${c.lr}`);
  if (!Number.isInteger(c.evalCount) || c.evalCount < 0) throw new RangeError(`evalCount must be a non-negative integer, got ${c.evalCount}`);
  if (c.modelDir !== undefined && c.model !== undefined) throw new Error('give modelDir or model, not both');
  return {
    ...c, ...positive, evalEvery: c.evalEvery ?? 0, maxNewTokens: c.maxNewTokens ?? 160, style: c.style ?? 'plan-then-solve', seed: c.seed ?? 1,
    ...(c.model ? {} : { modelDir: c.modelDir ?? DEFAULT_MODEL_DIR }),
  };
}

async function fetchModelFiles(dir: string): Promise<Map<string, Blob>> {
  const base = dir.endsWith('/') ? dir : `${dir}/`;
  const files = new Map<string, Blob>();
  const missing: string[] = [];
  for (const name of ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json']) {
    const res = await fetch(`${base}${name}`).catch(() => null);
    // A dev server answers a missing file with its index.html.
    if (res?.ok && !res.headers.get('content-type')?.includes('text/html')) files.set(name, await res.blob());
    else if (name !== 'tokenizer_config.json') missing.push(`${base}${name} (${res ? (res.ok ? 'not found' : `HTTP ${res.status}`) : 'unreachable'})`);
  }
  if (missing.length) {
    throw new Error(`the model files are missing: ${missing.join(', ')}. Make the default model with "npm run make:default-model", or choose another model.`);
  }
  return files;
}

async function loadModel(c: RunConfig): Promise<{ config: ModelConfig; params: Float32Array | null; tokenizer: Tokenizer }> {
  if (c.model) {
    const config = parseHfConfig(c.model.config);
    const tokenizer = await loadTokenizer(byteLevelTokenizerJson(), byteLevelTokenizerConfig(config.maxT));
    if (config.V < tokenizer.vocabSize) throw new RangeError(`the model's vocab_size ${config.V} is smaller than the byte-level tokenizer's ${tokenizer.vocabSize}`);
    return { config, params: null, tokenizer };
  }
  const loaded = await loadModelFiles(await fetchModelFiles(c.modelDir!));
  const tokenizer = await loadTokenizer(loaded.tokenizerJson!, loaded.tokenizerConfig);
  return { config: loaded.config, params: loaded.params, tokenizer };
}

async function loadData(db: PlantuneDb, c: RunConfig): Promise<{ train: Trajectory[]; eval: Trajectory[] }> {
  if ('synthetic' in c.data) return { train: trainProblems(c.data.synthetic, c.evalCount), eval: evalProblems(c.evalCount) };
  const { datasetId } = c.data;
  const train = await getTrajectories(db, datasetId, 'train');
  if (!train.length) throw new Error(`the dataset "${datasetId}" has no training rows (was it deleted?)`);
  return { train, eval: (await getTrajectories(db, datasetId, 'eval')).slice(0, c.evalCount) };
}

function loraSpec(c: RunConfig, config: ModelConfig): LoraSpec | undefined {
  if (!c.lora) return undefined;
  const { rank, alpha = 2 * rank, targets } = c.lora;
  const all = config.family === 'gpt2' ? ['c_attn', 'c_proj', 'c_fc'] : ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'];
  return { rank, alpha, targets: targets?.length ? targets : all };
}

/** Builds the run's session from a resolved config (see resolveConfig). */
export async function buildSession(e: Engine, db: PlantuneDb, c: RunConfig): Promise<RunSession> {
  const seed = c.seed!;
  const { config, params, tokenizer } = await loadModel(c);
  if (c.seq > config.maxT) throw new RangeError(`seq ${c.seq} exceeds the model's context of ${config.maxT} tokens`);
  const data = await loadData(db, c);
  const tokenize = (rows: Trajectory[]) => tokenizeExamples(rows, tokenizer, { style: c.style!, maxLength: c.seq + 1 }).examples;
  const examples = tokenize(data.train);
  if (!examples.length) throw new Error(`no training example fits in seq = ${c.seq} tokens: raise seq`);
  const evalExamples = tokenize(data.eval);

  const lora = loraSpec(c, config);
  const model = new Transformer(e, config, { B: c.batch, T: c.seq, lora });
  model.params.upload(params ?? initParams(model.layout, seed));
  if (lora) model.loraParams!.upload(initLora(model.layout, seed));
  const opt = new AdamW(e, lora ? model.loraParams! : model.params, lora ? model.loraGrads! : model.grads!, {
    beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: lora ? 0 : 0.01, maxGradNorm: 1,
  });
  const sft: SftConfig = {
    steps: c.steps, batchSize: c.batch, gradAccum: c.accum!, seed, logEvery: c.logEvery!, evalEvery: c.evalEvery!, evalMaxNewTokens: c.maxNewTokens!,
    schedule: { lr: c.lr, warmupSteps: Math.max(1, Math.floor(c.steps / 20)), decay: 'cosine', minLrRatio: 0.1 },
  };
  return {
    model, opt, tokenizer, examples, sft,
    evalItems: promptBatch(evalExamples, evalExamples.map((_, i) => i)),
    destroy: () => {
      opt.destroy();
      model.destroy();
    },
  };
}
