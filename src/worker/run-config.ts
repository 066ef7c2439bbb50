// A run's configuration as the page sends it, checked and completed with the defaults: what is stored
// with the run and what resume rebuilds from. Every error names the setting, the value and the rule.
import { TEMPLATE_STYLES } from '../data/templates';
import type { RunMode } from '../store/runs';
import type { GrpoRunSettings, OfflineRunSettings, RunConfig } from './run-types';

export const DEFAULT_MODEL_DIR = '/models/plantune-tiny/';

/** GRPO settings when the config leaves them out (documented on GrpoRunSettings). */
export const GRPO_DEFAULTS: Required<GrpoRunSettings> = {
  prompts: 4, G: 4, temperature: 1, topK: 0, topP: 1, epsilon: 0.2, epsilonHigh: 0.2, beta: 0, numIterations: 1,
  scale: 'group', maskTruncated: true, rewardWeights: { correctness: 1, format: 0.1 },
};

const MODES: readonly RunConfig['mode'][] = ['sft', 'grpo', 'offline'];

function positiveInt(name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new RangeError(`${name} must be a positive integer, got ${String(v)}`);
  return v;
}

function nonNegativeInt(name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new RangeError(`${name} must be a non-negative integer, got ${String(v)}`);
  return v;
}

function finiteAtLeast(name: string, v: unknown, min: number, exclusive = false): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || (exclusive && v === min)) {
    throw new RangeError(`${name} must be a number ${exclusive ? '>' : '>='} ${min}, got ${String(v)}`);
  }
  return v;
}

function grpoSettings(c: RunConfig): Required<GrpoRunSettings> {
  const given = Object.fromEntries(Object.entries(c.grpo ?? {}).filter(([, v]) => v !== undefined));
  const g: Required<GrpoRunSettings> = { ...GRPO_DEFAULTS, ...given };
  positiveInt('grpo.prompts', g.prompts);
  positiveInt('grpo.G', g.G);
  if (g.G < 2) throw new RangeError(`grpo.G must be at least 2, got ${g.G}: advantages compare the completions of one prompt`);
  finiteAtLeast('grpo.temperature', g.temperature, 0, true);
  nonNegativeInt('grpo.topK', g.topK);
  if (!(g.topP > 0 && g.topP <= 1)) throw new RangeError(`grpo.topP must be in (0, 1], got ${g.topP}`);
  finiteAtLeast('grpo.epsilon', g.epsilon, 0);
  finiteAtLeast('grpo.epsilonHigh', g.epsilonHigh, 0);
  finiteAtLeast('grpo.beta', g.beta, 0);
  if (g.beta > 0 && !c.lora) throw new Error(`grpo.beta ${g.beta} needs LoRA (the KL reference is the model with its adapters off): set lora, or beta 0`);
  positiveInt('grpo.numIterations', g.numIterations);
  if (!['group', 'batch', 'none'].includes(g.scale)) throw new RangeError(`grpo.scale must be group, batch or none, got ${String(g.scale)}`);
  if (typeof g.maskTruncated !== 'boolean') throw new TypeError(`grpo.maskTruncated must be true or false, got ${String(g.maskTruncated)}`);
  const w = g.rewardWeights;
  finiteAtLeast('grpo.rewardWeights.correctness', w.correctness, -Infinity);
  finiteAtLeast('grpo.rewardWeights.format', w.format, -Infinity);
  if (w.correctness === 0 && w.format === 0) throw new RangeError('grpo.rewardWeights are both 0: every completion would get the same reward');
  return g;
}

function offlineSettings(c: RunConfig): Required<OfflineRunSettings> {
  if (!c.offline) throw new Error('mode "offline" needs offline settings: { method: "filtered" | "weighted", scores?: "dataset" | "computed" }');
  const { method, scores = 'dataset' } = c.offline;
  if (method !== 'filtered' && method !== 'weighted') throw new RangeError(`offline.method must be filtered or weighted, got ${String(method)}`);
  if (scores !== 'dataset' && scores !== 'computed') throw new RangeError(`offline.scores must be dataset or computed, got ${String(scores)}`);
  return { method, scores };
}

function checkData(data: RunConfig['data']): void {
  if (data && 'synthetic' in data) positiveInt('data.synthetic', data.synthetic);
  else if (!data || typeof data.datasetId !== 'string' || !data.datasetId) throw new Error('data must be { synthetic: N } or { datasetId: "<a stored dataset>" }');
}

function checkLora(lora: NonNullable<RunConfig['lora']>): void {
  positiveInt('lora.rank', lora.rank);
  if (lora.alpha !== undefined) finiteAtLeast('lora.alpha', lora.alpha, 0, true);
  if (lora.targets !== undefined && (!Array.isArray(lora.targets) || lora.targets.some((t) => typeof t !== 'string' || !t))) {
    throw new TypeError('lora.targets must be a list of module names, e.g. ["q_proj", "v_proj"]');
  }
}

/** Checks a config from the page and fills in the defaults (the stored config is this one). */
export function resolveConfig(c: RunConfig): RunConfig {
  if (!MODES.includes(c.mode)) throw new Error(`mode "${String(c.mode)}" is unknown: use sft, grpo or offline`);
  const ints = {
    steps: positiveInt('steps', c.steps), batch: positiveInt('batch', c.batch), seq: positiveInt('seq', c.seq),
    checkpointEvery: positiveInt('checkpointEvery', c.checkpointEvery), accum: positiveInt('accum', c.accum ?? 1),
    logEvery: positiveInt('logEvery', c.logEvery ?? 1), keepLast: positiveInt('keepLast', c.keepLast ?? 2),
    evalCount: nonNegativeInt('evalCount', c.evalCount), evalEvery: nonNegativeInt('evalEvery', c.evalEvery ?? 0),
    passK: nonNegativeInt('passK', c.passK ?? 0), maxNewTokens: positiveInt('maxNewTokens', c.maxNewTokens ?? 160),
    seed: nonNegativeInt('seed', c.seed ?? 1),
  };
  if (ints.seed >= 2 ** 32) throw new RangeError(`seed must be below 2^32, got ${ints.seed}`);
  finiteAtLeast('lr', c.lr, 0, true);
  checkData(c.data);
  if (c.lora) checkLora(c.lora);
  const style = c.style ?? 'plan-then-solve';
  if (!TEMPLATE_STYLES.includes(style)) throw new RangeError(`style must be one of ${TEMPLATE_STYLES.join(', ')}, got ${String(style)}`);

  const sources = (['modelDir', 'modelId', 'model'] as const).filter((k) => c[k] !== undefined);
  for (const k of ['modelDir', 'modelId'] as const) if (c[k] !== undefined && (typeof c[k] !== 'string' || !c[k])) throw new TypeError(`${k} must be a non-empty string`);
  if (c.model !== undefined) {
    if (c.model.init !== 'random') throw new Error(`model.init must be "random", got ${String(c.model.init)}`);
    if (typeof c.model.config !== 'object' || c.model.config === null) throw new TypeError('model.config must be a Hugging Face config.json object');
    nonNegativeInt('model.seed', c.model.seed);
  }
  if (sources.length > 1) throw new Error(`give one model: ${sources.join(' and ')} are both set`);
  if (c.fromRun !== undefined && (typeof c.fromRun !== 'string' || !c.fromRun)) throw new Error('fromRun must be the id of a stored run');
  if (c.fromStep !== undefined) {
    if (c.fromRun === undefined) throw new Error('fromStep needs fromRun (the run whose checkpoint it names)');
    nonNegativeInt('fromStep', c.fromStep);
  }
  if (c.grpo !== undefined && c.mode !== 'grpo') throw new Error(`grpo settings are for mode "grpo"; this run's mode is "${c.mode}"`);
  if (c.offline !== undefined && c.mode !== 'offline') throw new Error(`offline settings are for mode "offline"; this run's mode is "${c.mode}"`);

  const resolved: RunConfig = { ...c, ...ints, style };
  // With fromRun the model is the one that run trained (checked against any model given here when the run starts).
  if (!sources.length && c.fromRun === undefined) resolved.modelDir = DEFAULT_MODEL_DIR;
  if (c.mode === 'grpo') resolved.grpo = grpoSettings(c);
  if (c.mode === 'offline') resolved.offline = offlineSettings(c);
  return resolved;
}

/** How the store files the run (offline RL is named by its method). */
export function storedMode(c: RunConfig): RunMode {
  if (c.mode === 'offline') return c.offline?.method === 'weighted' ? 'reward-weighted-bc' : 'filtered-bc';
  return c.mode;
}

const LABELS: Record<RunMode, string> = { sft: 'SFT', grpo: 'GRPO', 'filtered-bc': 'Filtered BC', 'reward-weighted-bc': 'Reward-weighted BC' };

/** The name a run gets when the config has none, e.g. "GRPO 2025-01-31 14:05". */
export function defaultRunName(c: RunConfig, now = new Date()): string {
  return `${LABELS[storedMode(c)]} ${now.toISOString().slice(0, 16).replace('T', ' ')}`;
}

/**
 * Sequences a run would like to generate at once (eval, GRPO sampling): GRPO's prompts × G, else
 * GEN_ROWS, and never fewer than its batch. The run takes the most of these that fit in memory
 * (fitGenRows). On SwiftShader, Llama d256 decoded 16 prompts 1.7x faster 16 at a time than 4.
 */
export const GEN_ROWS = 16;

export function wantedGenRows(c: Pick<RunConfig, 'mode' | 'batch' | 'grpo'>): number {
  const grpo = c.mode === 'grpo' && c.grpo?.prompts !== undefined && c.grpo.G !== undefined ? c.grpo.prompts * c.grpo.G : GEN_ROWS;
  return Math.max(c.batch, grpo);
}
