// `npm run train -- --model DIR|--hub REPO --data FILE --mode sft|grpo|offline ...`: the headless trainer.
// Runs in headless Chromium (scripts/run-in-browser.mjs) on the same engine, model and trainers as
// the page; prints progress and a before/after eval table, and writes exports to --out.
//
// A run is built from phases that the demo and the experiment chain too: openRun (model, data split
// by problem, the GPU model), evalPhase, sftPhase (SFT and offline RL), grpoPhase, exportRun.
import { checkContamination, splitByProblem } from '../data/split';
import type { TemplateStyle } from '../data/templates';
import { type Tokenizer, loadTokenizer } from '../data/tokenizer/load';
import type { Trajectory } from '../data/trajectory';
import { importFile } from '../data/validate';
import { Engine } from '../gpu/engine';
import { readF32 } from '../gpu/transfer';
import { type FetchLike, INDEX_FILE, SINGLE_FILE, loadHubModel, parseShardIndex } from '../io';
import { exportHfModel } from '../model/hf-weights';
import { initLora } from '../model/init';
import { exportPeft } from '../model/lora-io';
import { type LoadedModel, loadModelFiles } from '../model/model-files';
import type { LoraSpec } from '../model/param-layout';
import { Transformer } from '../model/transformer';
import { type PromptItem, type TokenizedExample, promptBatch, tokenizeExamples } from '../train/batches';
import type { EvalResult } from '../train/evaluate';
import { evaluate } from '../train/evaluate';
import { GrpoTrainer } from '../train/grpo';
import { offlineSelection } from '../train/offline';
import { AdamW } from '../train/optimizer';
import { newSftState, runSft } from '../train/sft';
import { evalProblems, trainProblems } from '../train/synthetic-sets';
import { type Flags, UsageError, list, num, parseFlags, str } from './args';
import type { HeadlessContext } from './headless-entry';
import { noisyTeacher } from './noisy-teacher';

export const TRAIN_FLAGS = [
  'model', 'hub', 'revision', 'data', 'synthetic', 'noisy-teacher', 'eval-count', 'eval-fraction', 'mode', 'style', 'steps', 'batch',
  'eval-batch', 'accum', 'lr', 'seq', 'pack', 'lora-rank', 'lora-alpha', 'lora-targets', 'max-new-tokens', 'prompts', 'G', 'beta',
  'temperature', 'iterations', 'offline', 'out', 'seed', 'skip-eval-before', 'help',
];

const USAGE = `usage: npm run train -- [flags]
  --model DIR            HF model folder (config.json, model.safetensors or sharded, tokenizer.json); default public/models/plantune-tiny
  --hub REPO [--revision REV]   download the model from the Hugging Face hub instead (e.g. HuggingFaceTB/SmolLM2-135M)
  --data FILE            trajectory file (any supported format; repeatable) ...or...
  --synthetic N          N synthetic planning problems (1-5 steps) for training (default 2000 when no --data)
  --noisy-teacher P      with --synthetic: replace the gold plans by a noisy teacher's (arithmetic slip rate P per step),
                         scored by answer correctness (for --mode offline)
  --eval-count N         held-out problems to evaluate: the first N that fit --seq (synthetic: of the first N; default 100)
  --eval-fraction F      with --data: fraction of problems held out for eval (default 0.1)
  --mode sft|grpo|offline   (default sft)
  --style plan-then-solve|socratic|subq-only|direct   completion template (default plan-then-solve)
  --steps N --batch B --accum K --lr LR --seq T --seed S
  --pack                 SFT: pack several examples into each row of T tokens (less padding; examples see earlier ones)
  --eval-batch N         rows generated at once in eval and GRPO (default --batch; the model is allocated for max(batch, this))
  --lora-rank R [--lora-alpha A] [--lora-targets q_proj,v_proj,...]   LoRA instead of full fine-tuning
  --prompts P --G G --beta B --temperature X --iterations N   GRPO settings
  --max-new-tokens N     generation cap in eval and GRPO (default: the longest gold completion + 10%)
  --offline filtered|weighted   offline RL: train on rows with answer correctness 1, or weight rows by it
  --out DIR              write model.safetensors + config.json (+ adapter) + metrics.json here
  --skip-eval-before     do not evaluate before training (the previous run's 'after' is the same)`;

/** What the CLI cannot get from the flags: the hub's fetch (tests serve files from memory). */
export interface RunDeps {
  fetch?: FetchLike;
}

/** Everything the phases share: the GPU model, its tokenizer, and the data split by problem. */
export interface Run {
  e: Engine;
  /** The model's folder or hub repo id (the PEFT adapter's base model). */
  source: string;
  loaded: LoadedModel;
  tokenizer: Tokenizer;
  model: Transformer;
  lora?: LoraSpec;
  style: TemplateStyle;
  seed: number;
  /** Sequence length: examples longer than T + 1 tokens are left out. */
  T: number;
  train: Trajectory[];
  examples: TokenizedExample[];
  evalItems: PromptItem[];
  /** Generation cap for eval (the longest gold eval completion + 10% unless --max-new-tokens). */
  evalMaxNewTokens: number;
}

/** Reads a model folder through the CLI's file bridge: config, tokenizer, and the weights (single file or the index's shards). */
async function readDir(ctx: HeadlessContext, dir: string): Promise<Map<string, Blob>> {
  const files = new Map<string, Blob>();
  const read = async (name: string) => files.set(name, new Blob([await ctx.readFile(`${dir}/${name}`)]));
  for (const name of ['config.json', SINGLE_FILE, INDEX_FILE, 'tokenizer.json', 'tokenizer_config.json']) {
    try {
      await read(name);
    } catch {
      // optional files (index, tokenizer_config) may be absent; loadModelFiles names what is missing
    }
  }
  const index = files.get(INDEX_FILE);
  if (index && !files.has(SINGLE_FILE)) {
    for (const shard of new Set(Object.values(parseShardIndex(await index.text(), `${dir}/${INDEX_FILE}`).weight_map))) await read(shard);
  }
  return files;
}

async function loadModel(ctx: HeadlessContext, flags: Flags, deps: RunDeps): Promise<{ loaded: LoadedModel; source: string }> {
  const repo = str(flags, 'hub', '');
  if (!repo) {
    const dir = str(flags, 'model', 'public/models/plantune-tiny');
    return { loaded: await loadModelFiles(await readDir(ctx, dir)), source: dir };
  }
  if (flags.has('model')) throw new UsageError('give --model DIR or --hub REPO, not both');
  let shown = -1;
  const hub = await loadHubModel(repo, {
    revision: str(flags, 'revision', 'main'),
    fetch: deps.fetch,
    onProgress: (p) => {
      const tenth = Math.floor((10 * p.loaded) / Math.max(1, p.total));
      if (p.done || (p.fileTotal !== null && p.fileTotal > 1e6 && tenth !== shown)) {
        shown = tenth;
        ctx.log(`hub ${repo}: ${p.file} ${(p.loaded / 1e6).toFixed(1)} of ${(p.total / 1e6).toFixed(1)} MB${p.done ? ' (done)' : ''}`);
      }
    },
  });
  return { loaded: await loadModelFiles(hub.files), source: repo };
}

function templateStyle(flags: Flags): TemplateStyle {
  const s = str(flags, 'style', 'plan-then-solve');
  if (!['plan-then-solve', 'socratic', 'subq-only', 'direct'].includes(s)) throw new UsageError(`--style must be plan-then-solve, socratic, subq-only or direct, got ${s}`);
  return s as TemplateStyle;
}

/** The training and eval trajectories the flags name, split by problem. */
async function loadData(ctx: HeadlessContext, flags: Flags, seed: number): Promise<{ train: Trajectory[]; evalRows: Trajectory[] }> {
  const evalCount = num(flags, 'eval-count', 100);
  const dataFiles = list(flags, 'data');
  if (!dataFiles.length) {
    const problems = trainProblems(num(flags, 'synthetic', 2000), evalCount);
    const slipRate = num(flags, 'noisy-teacher', -1);
    if (slipRate < 0) return { train: problems, evalRows: evalProblems(evalCount) };
    const train = noisyTeacher(problems, { slipRate, seed });
    const right = train.filter((t) => t.rewards?.answerCorrectness === 1).length;
    ctx.log(`noisy teacher (slip rate ${slipRate} per step): ${right} of ${train.length} trajectories reach the right answer`);
    return { train, evalRows: evalProblems(evalCount) };
  }
  if (flags.has('noisy-teacher')) throw new UsageError('--noisy-teacher rewrites the synthetic problems; it does not apply to --data files');
  const all: Trajectory[] = [];
  for (const f of dataFiles) {
    const { trajectories, summary } = await importFile(new Blob([await ctx.readFile(f)]), { file: f });
    ctx.log(`${f}: ${summary.format ?? 'unknown format'}, ${summary.rows} rows, ${summary.kept} kept, ${summary.rejected} rejected`);
    all.push(...trajectories);
  }
  const split = splitByProblem(all, { evalFraction: num(flags, 'eval-fraction', 0.1), seed });
  return { train: split.train, evalRows: split.eval };
}

/** The longest gold completion of `examples` (EOS included) plus 10%: room for a model that writes a little more. */
export function fittedMaxNewTokens(examples: readonly TokenizedExample[]): number {
  const longest = Math.max(1, ...examples.map((x) => x.ids.length - x.promptLength));
  return Math.ceil((longest * 11) / 10);
}

/** Loads the model and the data (file and data errors come before any GPU work), and allocates the GPU model for max(batch, eval-batch) rows of --seq tokens. */
export async function openRun(ctx: HeadlessContext, flags: Flags, deps: RunDeps = {}): Promise<Run> {
  const seed = num(flags, 'seed', 1);
  const style = templateStyle(flags);
  const { loaded, source } = await loadModel(ctx, flags, deps);
  if (!loaded.tokenizerJson) throw new Error(`${source} has no tokenizer.json`);
  const tokenizer = await loadTokenizer(loaded.tokenizerJson, loaded.tokenizerConfig);
  const rank = num(flags, 'lora-rank', 0);
  const defaultTargets = loaded.config.family === 'gpt2' ? ['c_attn', 'c_proj', 'c_fc'] : ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'];
  const lora: LoraSpec | undefined = rank > 0
    ? { rank, alpha: num(flags, 'lora-alpha', 2 * rank), targets: list(flags, 'lora-targets').length ? list(flags, 'lora-targets') : defaultTargets }
    : undefined;

  const { train, evalRows } = await loadData(ctx, flags, seed);
  const overlap = checkContamination(train, evalRows);
  if (overlap.length) throw new Error(`${overlap.length} eval problems also appear in the training data (split by problem to avoid contamination)`);
  const T = num(flags, 'seq', Math.min(256, loaded.config.maxT));
  if (T > loaded.config.maxT) throw new UsageError(`--seq ${T} is longer than the model's context (${loaded.config.maxT})`);
  const tok = tokenizeExamples(train, tokenizer, { style, maxLength: T + 1 });
  // The first --eval-count held-out problems that fit T + 1 tokens (all of them, for the synthetic task at 640).
  const evalTok = tokenizeExamples(evalRows, tokenizer, { style, maxLength: T + 1 });
  const evalExamples = evalTok.examples.slice(0, num(flags, 'eval-count', 100));
  const evalSteps = new Map<number, number>();
  for (const x of evalExamples) evalSteps.set(x.steps, (evalSteps.get(x.steps) ?? 0) + 1);
  ctx.log(`data: ${tok.examples.length} training examples (${tok.skipped.length} longer than ${T + 1} tokens skipped), ` +
    `${evalExamples.length} eval problems (of ${evalRows.length} held out, ${evalTok.skipped.length} longer than ${T + 1} tokens; ` +
    `by steps ${[...evalSteps].sort((a, b) => a[0] - b[0]).map(([k, n]) => `${k}:${n}`).join(' ')})`);
  if (!tok.examples.length) throw new Error(`no training example fits --seq ${T}: raise --seq (up to ${loaded.config.maxT})`);
  if (!evalExamples.length) ctx.log(`warning: no held-out problem fits --seq ${T}: nothing to evaluate (raise --seq, up to ${loaded.config.maxT})`);

  const e = await Engine.create();
  ctx.log(`adapter: ${e.gpu.adapter.name}`);
  const batch = num(flags, 'batch', 8);
  const B = Math.max(batch, num(flags, 'eval-batch', batch));
  const model = new Transformer(e, loaded.config, { B, T, lora });
  model.params.upload(loaded.params);
  if (lora) model.loraParams!.upload(initLora(model.layout, seed));
  const trainable = lora ? model.layout.lora!.numParams : model.layout.numParams;
  ctx.log(`model: ${loaded.config.architecture}, ${(model.layout.numParams / 1e6).toFixed(2)} M parameters, training ${(trainable / 1e6).toFixed(3)} M (${lora ? `LoRA r=${lora.rank} on ${lora.targets.join(',')}` : 'full'}), allocated for ${B} x ${T}`);
  return {
    e, source, loaded, tokenizer, model, lora, style, seed, T, train, examples: tok.examples,
    evalItems: promptBatch(evalExamples, evalExamples.map((_, i) => i)),
    evalMaxNewTokens: num(flags, 'max-new-tokens', fittedMaxNewTokens(evalExamples)),
  };
}

function newOptimizer(run: Run): AdamW {
  const { e, model, lora } = run;
  return new AdamW(e, lora ? model.loraParams! : model.params, lora ? model.loraGrads! : model.grads!, { beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: lora ? 0 : 0.01, maxGradNorm: 1 });
}

/** Greedy eval on the held-out problems, with progress and a sample. */
export async function evalPhase(ctx: HeadlessContext, run: Run, label: string): Promise<EvalResult> {
  const r = await evaluate(run.model, run.tokenizer, run.evalItems, { maxNewTokens: run.evalMaxNewTokens, onProgress: (d, n) => ctx.log(`eval ${label}: ${d}/${n}`) });
  if (!r.n) return r;
  ctx.log(`eval ${label}: accuracy ${(100 * r.accuracy).toFixed(1)}% (${r.correct}/${r.n}) in ${r.seconds.toFixed(0)} s, ${(r.tokensGenerated / r.seconds).toFixed(0)} generated tok/s (cap ${run.evalMaxNewTokens} new tokens)`);
  ctx.log(`sample: ${JSON.stringify(r.samples[0].completion.slice(0, 200))}`);
  return r;
}

export interface SftPhaseOptions {
  steps: number;
  batch: number;
  lr: number;
  accum?: number;
  /** Pack examples into full rows (see runSft's packDraw). */
  pack?: boolean;
  /** Offline RL on scored trajectories instead of plain SFT. */
  offline?: 'filtered' | 'weighted';
}

/** SFT (completion-only loss), or offline RL: filtered / reward-weighted BC on the scored rows. Returns the logged metrics. */
export async function sftPhase(ctx: HeadlessContext, run: Run, o: SftPhaseOptions): Promise<unknown[]> {
  let examples = run.examples;
  let exampleWeights: Float32Array | undefined;
  if (o.offline) {
    const sel = offlineSelection(examples, run.train, o.offline);
    examples = sel.examples;
    exampleWeights = sel.weights;
    ctx.log(`offline RL (${o.offline} BC): ${examples.length} of ${sel.scored} scored examples used`);
    if (!examples.length) throw new Error('offline RL: no scored example has answer correctness 1; nothing to train on');
  }
  const meanLength = examples.reduce((s, x) => s + x.ids.length, 0) / examples.length;
  const packDraw = o.pack ? Math.ceil((o.batch * (run.T + 1)) / meanLength) : undefined;
  const opt = newOptimizer(run);
  const metrics: unknown[] = [];
  try {
    await runSft(run.model, opt, run.tokenizer, examples, [], {
      steps: o.steps, batchSize: o.batch, gradAccum: o.accum ?? 1, seed: run.seed, logEvery: 10, evalEvery: 0, evalMaxNewTokens: 0, exampleWeights, packDraw,
      schedule: { lr: o.lr, warmupSteps: Math.max(1, Math.floor(o.steps / 20)), decay: 'cosine', minLrRatio: 0.1 },
    }, newSftState(examples.length, run.seed), {
      onStep: (m) => {
        metrics.push(m);
        ctx.log(`step ${m.step}/${o.steps} loss ${m.loss.toFixed(4)} lr ${m.lr.toExponential(2)} grad-norm ${m.gradNorm.toFixed(3)} ${m.tokensPerSecond.toFixed(0)} tok/s eta ${m.eta.toFixed(0)} s`);
      },
    });
  } finally {
    opt.destroy();
  }
  return metrics;
}

export interface GrpoPhaseOptions {
  steps: number;
  prompts: number;
  G: number;
  lr: number;
  /** KL weight to the LoRA-off reference (LoRA only). */
  beta?: number;
  temperature?: number;
  iterations?: number;
  maxNewTokens?: number;
}

/** GRPO on final-answer correctness (+0.2 plan format) over the training prompts. Returns the per-step metrics. */
export async function grpoPhase(ctx: HeadlessContext, run: Run, o: GrpoPhaseOptions): Promise<unknown[]> {
  const items = promptBatch(run.examples, run.examples.map((_, i) => i));
  const maxNewTokens = o.maxNewTokens ?? fittedMaxNewTokens(run.examples);
  const opt = newOptimizer(run);
  const metrics: unknown[] = [];
  try {
    const grpo = new GrpoTrainer(run.model, opt, run.tokenizer, items, {
      steps: o.steps, prompts: o.prompts, G: o.G, maxNewTokens, temperature: o.temperature ?? 1,
      epsilon: 0.2, epsilonHigh: 0.28, beta: run.lora ? (o.beta ?? 0.04) : 0, numIterations: o.iterations ?? 1, scale: 'group',
      maskTruncated: true, rewardWeights: { correctness: 1, format: 0.2 }, style: run.style, seed: run.seed,
      schedule: { lr: o.lr, warmupSteps: Math.max(1, Math.floor(o.steps / 20)), decay: 'cosine', minLrRatio: 0.1 },
    });
    for (let s = 0; s < o.steps; s++) {
      const m = await grpo.runStep();
      metrics.push({ ...m, samples: undefined });
      ctx.log(`grpo step ${m.step}/${o.steps} reward ${m.rewardMean.toFixed(3)}±${m.rewardStd.toFixed(3)} acc ${(100 * m.accuracy).toFixed(0)}% kl ${m.kl.toFixed(4)} clip ${m.clipFraction.toFixed(3)} grad-norm ${m.gradNorm.toFixed(3)} decode ${m.decodeTokensPerSecond.toFixed(0)} tok/s train ${m.trainTokensPerSecond.toFixed(0)} tok/s (cap ${maxNewTokens} new tokens)`);
      if (m.step % 10 === 0) ctx.log(`  sample (reward ${m.samples[0].reward}): ${JSON.stringify(m.samples[0].completion.slice(0, 160))}`);
    }
  } finally {
    opt.destroy();
  }
  return metrics;
}

/** Writes model.safetensors + config.json, the tokenizer, adapter/ (PEFT) with LoRA, and metrics.json. */
export async function exportRun(ctx: HeadlessContext, run: Run, out: string, metrics: Record<string, unknown>): Promise<void> {
  const { e, model, lora, loaded } = run;
  const base = await readF32(e.gpu, model.params.flat);
  const loraFlat = lora ? await readF32(e.gpu, model.loraParams!.flat) : undefined;
  const hf = exportHfModel(model.layout, base, { lora: loraFlat });
  await ctx.writeFile(`${out}/config.json`, hf.configJson);
  await ctx.writeFile(`${out}/model.safetensors`, new Uint8Array(await hf.safetensors.arrayBuffer()));
  await ctx.writeFile(`${out}/tokenizer.json`, loaded.tokenizerJson!);
  if (loaded.tokenizerConfig) await ctx.writeFile(`${out}/tokenizer_config.json`, loaded.tokenizerConfig);
  if (lora && loraFlat) {
    const peft = exportPeft(model.layout, loraFlat, { baseModel: run.source });
    await ctx.writeFile(`${out}/adapter/adapter_config.json`, peft.adapterConfigJson);
    await ctx.writeFile(`${out}/adapter/adapter_model.safetensors`, new Uint8Array(await peft.adapterSafetensors.arrayBuffer()));
  }
  await ctx.writeFile(`${out}/metrics.json`, JSON.stringify(metrics, null, 2));
  ctx.log(`wrote ${out}`);
}

/** Accuracy by number of plan steps, one column per labelled result. */
export function accuracyTable(cols: [string, EvalResult][]): string[] {
  const steps = [...new Set(cols.flatMap(([, r]) => Object.keys(r.bySteps).map(Number)))].sort((a, b) => a - b);
  const pct = (r: EvalResult, k?: number) => {
    const [n, c] = k === undefined ? [r.n, r.correct] : (r.bySteps[k] ?? [0, 0]);
    return n ? `${((100 * c) / n).toFixed(1)}% (${c}/${n})` : '-';
  };
  return [
    ['steps', ...cols.map(([label]) => label)].map((c) => c.padEnd(18)).join(''),
    ...steps.map((k) => [String(k), ...cols.map(([, r]) => pct(r, k))].map((c) => c.padEnd(18)).join('')),
    ['all', ...cols.map(([, r]) => pct(r))].map((c) => c.padEnd(18)).join(''),
  ];
}

export default async function train(ctx: HeadlessContext): Promise<number> {
  try {
    const flags = parseFlags(ctx.args, TRAIN_FLAGS);
    if (flags.has('help')) ctx.log(USAGE);
    else await runTraining(ctx, flags);
    return 0;
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    ctx.log(`${e.message}\n${USAGE}`);
    return 2;
  }
}

export interface TrainingResult {
  before: EvalResult | null;
  after: EvalResult;
}

const samplesOf = (r: EvalResult | null) => r && { ...r, samples: r.samples.slice(0, 10) };

/** One training run as the flags describe it: eval, one training phase, eval, export. */
export async function runTraining(ctx: HeadlessContext, flags: Flags, deps: RunDeps = {}): Promise<TrainingResult> {
  // Every flag is read before the model loads, so a typo fails at once.
  const mode = str(flags, 'mode', 'sft');
  if (!['sft', 'grpo', 'offline'].includes(mode)) throw new UsageError(`--mode must be sft, grpo or offline, got ${mode}`);
  const offline = str(flags, 'offline', 'filtered');
  if (offline !== 'filtered' && offline !== 'weighted') throw new UsageError(`--offline must be filtered or weighted, got ${offline}`);
  const steps = num(flags, 'steps', mode === 'grpo' ? 30 : 300);
  const lr = num(flags, 'lr', num(flags, 'lora-rank', 0) > 0 ? 2e-3 : mode === 'grpo' ? 1e-4 : 1e-3);
  const grpo: GrpoPhaseOptions = {
    steps, lr, prompts: num(flags, 'prompts', 4), G: num(flags, 'G', 4), beta: num(flags, 'beta', 0.04), temperature: num(flags, 'temperature', 1),
    iterations: num(flags, 'iterations', 1), maxNewTokens: flags.has('max-new-tokens') ? num(flags, 'max-new-tokens', 0) : undefined,
  };
  const sft: SftPhaseOptions = { steps, lr, batch: num(flags, 'batch', 8), accum: num(flags, 'accum', 1), pack: flags.has('pack'), offline: mode === 'offline' ? offline : undefined };
  const out = str(flags, 'out', '');

  const run = await openRun(ctx, flags, deps);
  const before = flags.has('skip-eval-before') ? null : await evalPhase(ctx, run, 'before');
  const metrics = mode === 'grpo' ? await grpoPhase(ctx, run, grpo) : await sftPhase(ctx, run, sft);
  const after = await evalPhase(ctx, run, 'after');
  if (before) for (const line of accuracyTable([['before', before], ['after', after]])) ctx.log(line);
  if (out) await exportRun(ctx, run, out, { mode, style: run.style, steps, before: samplesOf(before), after: samplesOf(after), metrics });
  return { before, after };
}
