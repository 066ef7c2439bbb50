// Assembles what one run trains: the model (see run-model.ts) with its tokenizer, the tokenized train
// and eval data (synthetic or a stored dataset; offline RL keeps the scored rows it trains on; GRPO keeps
// the prompts), the optimizer, and the mode's trainer. The same config always builds the same session,
// so a resumed run restores into an identical one. Nothing is allocated on the GPU before the memory
// check has passed.
import { checkContamination } from '../data/split';
import { type Tokenizer, loadTokenizer } from '../data/tokenizer/load';
import type { Trajectory } from '../data/trajectory';
import type { Engine } from '../gpu/engine';
import type { ModelConfig } from '../model/config';
import { initLora } from '../model/init';
import { type MemoryLimits, assertFits, fitGenRows, memoryLimits } from '../model/memory';
import { Transformer } from '../model/transformer';
import { tuneModel } from '../model/tune';
import { getDataset, getTrajectories } from '../store/datasets';
import type { PlantuneDb } from '../store/db';
import { getRun } from '../store/runs';
import { type PromptItem, type TokenizedExample, promptBatch, tokenizeExamples } from '../train/batches';
import type { TrainState } from '../train/checkpoint';
import type { GrpoConfig } from '../train/grpo';
import { AdamW } from '../train/optimizer';
import type { ScheduleConfig } from '../train/schedule';
import { newSftState } from '../train/sft';
import { evalProblems, trainProblems } from '../train/synthetic-sets';
import { resolveConfig, wantedGenRows } from './run-config';
import { grpoTrainer } from './run-loop-grpo';
import { sftTrainer } from './run-loop-sft';
import { scoreRows, selectOffline } from './run-offline';
import { type ModelChoice, loraSpec, modelSource, runSource } from './run-model';
import { generationTokenizer } from './run-tokenizer';
import type { ModeTrainer, TrainerHooks } from './run-trainer';
import type { RunConfig } from './run-types';

/** What a run may take on this engine's adapter: its buffer limits, and half the memory the browser reports. */
export function runLimits(e: Engine): MemoryLimits {
  return memoryLimits(e.gpu, (navigator as { deviceMemory?: number }).deviceMemory);
}

/**
 * Throws (naming what to reduce) when the run's model, batch, sequence and LoRA do not fit the
 * adapter; else returns how many sequences it generates at once (wantedGenRows, as memory allows).
 */
function checkFits(config: ModelConfig, c: RunConfig, limits: MemoryLimits): number {
  if (c.seq > config.maxT) throw new RangeError(`seq ${c.seq} exceeds the model's context of ${config.maxT} tokens: lower seq`);
  const plan = { batch: c.batch, seq: c.seq, lora: loraSpec(c, config) };
  assertFits(config, plan, limits);
  return fitGenRows(config, plan, limits, wantedGenRows(c));
}

/**
 * Everything that can be checked before a run starts, without loading weights: the config, the model
 * (its config and where it comes from), the data set, and the memory the run needs on this adapter.
 * Returns the config to store (with fromRun's checkpoint step filled in). Throws a message for the user.
 */
export async function prepareRun(db: PlantuneDb, limits: MemoryLimits, config: RunConfig): Promise<RunConfig> {
  const c = resolveConfig(config);
  let source;
  if (c.fromRun !== undefined) {
    source = await runSource(db, c.fromRun, c.fromStep);
    c.fromStep = source.step;
    await sameModelAsSource(db, c);
  } else {
    source = await modelSource(db, c);
  }
  if ('datasetId' in c.data) {
    const dataset = await getDataset(db, c.data.datasetId);
    if (!dataset) throw new Error(`there is no stored dataset "${c.data.datasetId}" (was it deleted?)`);
    if (!dataset.counts.train) throw new Error(`the dataset "${dataset.name}" has no training rows`);
  }
  checkFits(source.config, c, limits);
  if (c.mode === 'offline') scoreRows((await loadData(db, c)).train, offline(c));
  return c;
}

/** "modelDir /models/x/", "modelId abc", "a random model (seed 3)". */
function modelText(c: ModelChoice): string {
  if (c.modelDir !== undefined) return `modelDir ${c.modelDir}`;
  if (c.modelId !== undefined) return `modelId ${c.modelId}`;
  return c.model ? `a random model (seed ${c.model.seed})` : 'no model';
}

/** With fromRun, a model given as well must be the one the chain of source runs started from. */
async function sameModelAsSource(db: PlantuneDb, c: RunConfig): Promise<void> {
  const given: ModelChoice = { modelDir: c.modelDir, modelId: c.modelId, model: c.model };
  if (given.modelDir === undefined && given.modelId === undefined && given.model === undefined) return;
  let root: RunConfig = c;
  // runSource has followed this chain already (and refuses a cycle).
  while (root.fromRun !== undefined) root = (await getRun(db, root.fromRun))!.config as RunConfig;
  const theirs: ModelChoice = { modelDir: root.modelDir, modelId: root.modelId, model: root.model };
  if (JSON.stringify(theirs) !== JSON.stringify(given)) {
    throw new Error(`run "${c.fromRun}" started from ${modelText(theirs)}, but this run names ${modelText(given)}: leave the model out to start from that run's weights`);
  }
}

export type SessionProgress = (phase: 'loading' | 'tokenizing' | 'tuning', done: number, total: number) => void;

async function loadData(db: PlantuneDb, c: RunConfig): Promise<{ train: Trajectory[]; eval: Trajectory[] }> {
  if ('synthetic' in c.data) return { train: trainProblems(c.data.synthetic, c.evalCount), eval: evalProblems(c.evalCount) };
  const { datasetId } = c.data;
  const train = await getTrajectories(db, datasetId, 'train');
  if (!train.length) throw new Error(`the dataset "${datasetId}" has no training rows (was it deleted?)`);
  const held = (await getTrajectories(db, datasetId, 'eval')).slice(0, c.evalCount);
  const shared = checkContamination(train, held);
  if (shared.length) throw new Error(`${shared.length} eval problems of the dataset "${datasetId}" also appear in its training rows: re-import it split by problem`);
  return { train, eval: held };
}

/** Tokenizes in chunks, reporting progress between them. */
async function tokenize(rows: Trajectory[], tokenizer: Tokenizer, c: RunConfig, maxLength: number, progress: SessionProgress): Promise<{ examples: TokenizedExample[]; skipped: number }> {
  const examples: TokenizedExample[] = [];
  let skipped = 0;
  const CHUNK = 256;
  for (let i = 0; i < rows.length; i += CHUNK) {
    const part = tokenizeExamples(rows.slice(i, i + CHUNK), tokenizer, { style: c.style!, maxLength });
    examples.push(...part.examples);
    skipped += part.skipped.length;
    progress('tokenizing', Math.min(rows.length, i + CHUNK), rows.length);
    await Promise.resolve(); // let the progress event go out
  }
  return { examples, skipped };
}

/** resolveConfig filled in every offline setting. */
const offline = (c: RunConfig) => c.offline as Required<NonNullable<RunConfig['offline']>>;

function grpoConfig(c: RunConfig, schedule: GrpoConfig['schedule']): GrpoConfig {
  // resolveConfig filled in every GRPO setting.
  const g = c.grpo as Required<NonNullable<RunConfig['grpo']>>;
  return {
    steps: c.steps, prompts: g.prompts, G: g.G, maxNewTokens: c.maxNewTokens!, temperature: g.temperature, topK: g.topK, topP: g.topP,
    epsilon: g.epsilon, epsilonHigh: g.epsilonHigh, beta: g.beta, numIterations: g.numIterations, scale: g.scale,
    maskTruncated: g.maskTruncated, rewardWeights: g.rewardWeights, style: c.style!, schedule, seed: c.seed!,
  };
}

export interface RunSession {
  model: Transformer;
  opt: AdamW;
  tokenizer: Tokenizer;
  evalItems: PromptItem[];
  /** Examples (SFT, offline) or prompts (GRPO) the data order runs over: a checkpoint must match it. */
  dataSize: number;
  /** What the run trains on, for the status line, e.g. "120 examples" or "64 prompts". */
  dataNote: string;
  /** The mode's trainer, from step 0 or from a restored state. */
  trainer(state: TrainState | undefined, hooks: TrainerHooks): ModeTrainer;
  destroy(): void;
}

/** Builds the run's session from a resolved config (see resolveConfig), checking the memory it needs first. */
export async function buildSession(e: Engine, db: PlantuneDb, c: RunConfig, progress: SessionProgress): Promise<RunSession> {
  const seed = c.seed!;
  const source = await modelSource(db, c, (done, total) => progress('loading', done, total));
  const { config } = source;
  const genB = checkFits(config, c, runLimits(e));
  const tokenizerFiles = await source.tokenizerFiles();
  const loaded = await loadTokenizer(tokenizerFiles.json, tokenizerFiles.config);
  if (config.V < loaded.vocabSize) throw new RangeError(`the model's vocab_size ${config.V} is smaller than its tokenizer's ${loaded.vocabSize}`);
  const tokenizer = generationTokenizer(loaded, config.V);
  const params = await source.weights();
  const data = await loadData(db, c);
  // GRPO needs only the prompt to fit (with room to generate); SFT and offline RL the whole example.
  const trainLength = c.mode === 'grpo' ? Number.MAX_SAFE_INTEGER : c.seq + 1;
  const train = await tokenize(data.train, tokenizer, c, trainLength, progress);
  const evalEx = (await tokenize(data.eval, tokenizer, c, c.seq + 1, progress)).examples;
  const lengthNote = train.skipped ? ` (${train.skipped} longer than seq ${c.seq} left out)` : '';

  let examples = train.examples;
  let weights: Float32Array | undefined;
  let items: PromptItem[] = [];
  let note: string;
  if (c.mode === 'grpo') {
    const fit = examples.flatMap((x, i) => (x.promptLength < c.seq ? [i] : []));
    items = promptBatch(examples, fit);
    note = `${items.length} prompts`;
    if (examples.length > fit.length) note += ` (${examples.length - fit.length} of seq ${c.seq} tokens or more left out)`;
    if (!items.length) throw new Error(`no training prompt is shorter than seq = ${c.seq} tokens: raise seq`);
  } else {
    if (!examples.length) throw new Error(`no training example fits in seq = ${c.seq} tokens: raise seq`);
    if (c.mode === 'offline') ({ examples, weights, note } = selectOffline(examples, scoreRows(data.train, offline(c)), offline(c).method));
    else note = `${examples.length} examples`;
  }

  const lora = loraSpec(c, config);
  const model = new Transformer(e, config, { B: c.batch, T: c.seq, lora, genB });
  model.params.upload(params);
  if (lora) model.loraParams!.upload(initLora(model.layout, seed));
  // Timed kernel trials for this model's shapes, once per adapter (remembered in IndexedDB).
  progress('tuning', 0, 1);
  await tuneModel(model);
  progress('tuning', 1, 1);
  const opt = new AdamW(e, lora ? model.loraParams! : model.params, lora ? model.loraGrads! : model.grads!, {
    beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: lora ? 0 : 0.01, maxGradNorm: 1,
  });
  const schedule: Omit<ScheduleConfig, 'totalSteps'> = { lr: c.lr, warmupSteps: Math.max(1, Math.floor(c.steps / 20)), decay: 'cosine', minLrRatio: 0.1 };
  return {
    model, opt, tokenizer,
    evalItems: promptBatch(evalEx, evalEx.map((_, i) => i)),
    dataSize: c.mode === 'grpo' ? items.length : examples.length,
    dataNote: note + lengthNote,
    trainer: (state, hooks) => c.mode === 'grpo'
      ? grpoTrainer(model, opt, tokenizer, items, grpoConfig(c, schedule), state, hooks)
      : sftTrainer(model, opt, tokenizer, examples, {
        steps: c.steps, batchSize: c.batch, gradAccum: c.accum!, seed, logEvery: c.logEvery!, evalEvery: 0, evalMaxNewTokens: c.maxNewTokens!,
        schedule, exampleWeights: weights,
      }, state ?? newSftState(examples.length, seed), hooks),
    destroy: () => {
      opt.destroy();
      model.destroy();
    },
  };
}
