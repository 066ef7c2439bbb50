// `npm run train -- --model DIR --data FILE --mode sft|grpo|offline ...`: the headless trainer.
// Runs in headless Chromium (scripts/run-in-browser.mjs) on the same engine, model and trainers as
// the page; prints progress and a before/after eval table, and writes exports to --out.
import { splitByProblem, checkContamination } from '../data/split';
import type { TemplateStyle } from '../data/templates';
import { loadTokenizer } from '../data/tokenizer/load';
import type { Trajectory } from '../data/trajectory';
import { importFile } from '../data/validate';
import { Engine } from '../gpu/engine';
import { readF32 } from '../gpu/transfer';
import { exportHfModel } from '../model/hf-weights';
import { initLora } from '../model/init';
import { exportPeft } from '../model/lora-io';
import { loadModelFiles } from '../model/model-files';
import type { LoraSpec } from '../model/param-layout';
import { Transformer } from '../model/transformer';
import { promptBatch, tokenizeExamples } from '../train/batches';
import type { EvalResult } from '../train/evaluate';
import { evaluate } from '../train/evaluate';
import { GrpoTrainer } from '../train/grpo';
import { offlineSelection } from '../train/offline';
import { AdamW } from '../train/optimizer';
import { newSftState, runSft } from '../train/sft';
import { evalProblems, trainProblems } from '../train/synthetic-sets';
import { type Flags, UsageError, list, num, parseFlags, str } from './args';
import type { HeadlessContext } from './headless-entry';

const FLAGS = [
  'model', 'data', 'synthetic', 'eval-count', 'eval-fraction', 'mode', 'style', 'steps', 'batch', 'accum', 'lr', 'seq',
  'lora-rank', 'lora-alpha', 'lora-targets', 'max-new-tokens', 'prompts', 'G', 'beta', 'temperature', 'iterations',
  'offline', 'out', 'seed', 'skip-eval-before', 'help',
];

const USAGE = `usage: npm run train -- [flags]
  --model DIR            HF model folder (config.json, model.safetensors, tokenizer.json); default public/models/plantune-tiny
  --data FILE            trajectory file (any supported format; repeatable) ...or...
  --synthetic N          N synthetic planning problems (1-5 steps) for training (default 2000 when no --data)
  --eval-count N         held-out problems to evaluate (default 100)
  --eval-fraction F      with --data: fraction of problems held out for eval (default 0.1)
  --mode sft|grpo|offline   (default sft)
  --style plan-then-solve|socratic|subq-only|direct   completion template (default plan-then-solve)
  --steps N --batch B --accum K --lr LR --seq T --seed S
  --lora-rank R [--lora-alpha A] [--lora-targets q_proj,v_proj,...]   LoRA instead of full fine-tuning
  --prompts P --G G --beta B --temperature X --iterations N --max-new-tokens N   GRPO settings
  --offline filtered|weighted   offline RL: train on rows with answer correctness 1, or weight rows by it
  --out DIR              write model.safetensors + config.json (+ adapter) + metrics.json here
  --skip-eval-before     do not evaluate before training (the previous run's 'after' is the same)`;

async function readDir(ctx: HeadlessContext, dir: string): Promise<Map<string, Blob>> {
  const files = new Map<string, Blob>();
  for (const name of ['config.json', 'model.safetensors', 'model.safetensors.index.json', 'tokenizer.json', 'tokenizer_config.json']) {
    try {
      files.set(name, new Blob([await ctx.readFile(`${dir}/${name}`)]));
    } catch {
      // optional files (index, tokenizer_config) may be absent; loadModelFiles names what is missing
    }
  }
  return files;
}

function style(flags: Flags): TemplateStyle {
  const s = str(flags, 'style', 'plan-then-solve');
  if (!['plan-then-solve', 'socratic', 'subq-only', 'direct'].includes(s)) throw new UsageError(`--style must be plan-then-solve, socratic, subq-only or direct, got ${s}`);
  return s as TemplateStyle;
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
    const flags = parseFlags(ctx.args, FLAGS);
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

/** One training run as the flags describe it; the demo chains several. */
export async function runTraining(ctx: HeadlessContext, flags: Flags): Promise<TrainingResult> {
  const mode = str(flags, 'mode', 'sft');
  if (!['sft', 'grpo', 'offline'].includes(mode)) throw new UsageError(`--mode must be sft, grpo or offline, got ${mode}`);
  const seed = num(flags, 'seed', 1);
  const tStyle = style(flags);
  const e = await Engine.create();
  ctx.log(`adapter: ${e.gpu.adapter.name}`);

  // model
  const modelDir = str(flags, 'model', 'public/models/plantune-tiny');
  const loaded = await loadModelFiles(await readDir(ctx, modelDir));
  if (!loaded.tokenizerJson) throw new Error(`${modelDir} has no tokenizer.json`);
  const tokenizer = await loadTokenizer(loaded.tokenizerJson, loaded.tokenizerConfig);
  const rank = num(flags, 'lora-rank', 0);
  const lora: LoraSpec | undefined = rank > 0
    ? { rank, alpha: num(flags, 'lora-alpha', 2 * rank), targets: list(flags, 'lora-targets').length ? list(flags, 'lora-targets') : loaded.config.family === 'gpt2' ? ['c_attn', 'c_proj', 'c_fc'] : ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] }
    : undefined;

  // data, split by problem
  const evalCount = num(flags, 'eval-count', 100);
  let train: Trajectory[];
  let evalRows: Trajectory[];
  const dataFiles = list(flags, 'data');
  if (dataFiles.length) {
    const all: Trajectory[] = [];
    for (const f of dataFiles) {
      const { trajectories, summary } = await importFile(new Blob([await ctx.readFile(f)]), { file: f });
      ctx.log(`${f}: ${summary.format ?? 'unknown format'}, ${summary.rows} rows, ${summary.kept} kept, ${summary.rejected} rejected`);
      all.push(...trajectories);
    }
    const split = splitByProblem(all, { evalFraction: num(flags, 'eval-fraction', 0.1), seed });
    train = split.train;
    evalRows = split.eval.slice(0, evalCount);
  } else {
    train = trainProblems(num(flags, 'synthetic', 2000), evalCount);
    evalRows = evalProblems(evalCount);
  }
  const overlap = checkContamination(train, evalRows);
  if (overlap.length) throw new Error(`${overlap.length} eval problems also appear in the training data (split by problem to avoid contamination)`);
  const T = num(flags, 'seq', Math.min(256, loaded.config.maxT));
  const tok = tokenizeExamples(train, tokenizer, { style: tStyle, maxLength: T + 1 });
  const evalTok = tokenizeExamples(evalRows, tokenizer, { style: tStyle, maxLength: T + 1 });
  ctx.log(`data: ${tok.examples.length} training examples (${tok.skipped.length} longer than ${T + 1} tokens skipped), ${evalTok.examples.length} eval problems`);
  const evalItems = promptBatch(evalTok.examples, evalTok.examples.map((_, i) => i));

  const B = num(flags, 'batch', 8);
  const model = new Transformer(e, loaded.config, { B, T, lora });
  model.params.upload(loaded.params);
  if (lora) model.loraParams!.upload(initLora(model.layout, seed));
  const params = lora ? model.loraParams! : model.params;
  const grads = lora ? model.loraGrads! : model.grads!;
  const opt = new AdamW(e, params, grads, { beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: lora ? 0 : 0.01, maxGradNorm: 1 });
  const trainable = lora ? model.layout.lora!.numParams : model.layout.numParams;
  ctx.log(`model: ${loaded.config.architecture}, ${(model.layout.numParams / 1e6).toFixed(2)} M parameters, training ${(trainable / 1e6).toFixed(3)} M (${lora ? `LoRA r=${lora.rank} on ${lora.targets.join(',')}` : 'full'})`);

  const maxNewTokens = num(flags, 'max-new-tokens', 160);
  const evalLog = (label: string, r: EvalResult) => ctx.log(`eval ${label}: accuracy ${(100 * r.accuracy).toFixed(1)}% (${r.correct}/${r.n}) in ${r.seconds.toFixed(0)} s, ${(r.tokensGenerated / r.seconds).toFixed(0)} generated tok/s`);
  const before = flags.has('skip-eval-before') ? null : await evaluate(model, tokenizer, evalItems, { maxNewTokens, onProgress: (d, n) => ctx.log(`eval before: ${d}/${n}`) });
  if (before) {
    evalLog('before', before);
    ctx.log(`sample: ${JSON.stringify(before.samples[0]?.completion.slice(0, 200))}`);
  }

  const steps = num(flags, 'steps', mode === 'grpo' ? 30 : 300);
  const lr = num(flags, 'lr', lora ? 2e-3 : mode === 'grpo' ? 1e-4 : 1e-3);
  const schedule = { lr, warmupSteps: Math.max(1, Math.floor(steps / 20)), decay: 'cosine' as const, minLrRatio: 0.1 };
  const metrics: unknown[] = [];
  if (mode === 'grpo') {
    const trainItems = promptBatch(tok.examples, tok.examples.map((_, i) => i));
    const grpo = new GrpoTrainer(model, opt, tokenizer, trainItems, {
      steps, prompts: num(flags, 'prompts', 4), G: num(flags, 'G', 4), maxNewTokens, temperature: num(flags, 'temperature', 1),
      epsilon: 0.2, epsilonHigh: 0.28, beta: lora ? num(flags, 'beta', 0.04) : 0, numIterations: num(flags, 'iterations', 1), scale: 'group',
      maskTruncated: true, rewardWeights: { correctness: 1, format: 0.2 }, style: tStyle, schedule, seed,
    });
    for (let s = 0; s < steps; s++) {
      const m = await grpo.runStep();
      metrics.push({ ...m, samples: undefined });
      ctx.log(`grpo step ${m.step}/${steps} reward ${m.rewardMean.toFixed(3)}±${m.rewardStd.toFixed(3)} acc ${(100 * m.accuracy).toFixed(0)}% kl ${m.kl.toFixed(4)} clip ${m.clipFraction.toFixed(3)} grad-norm ${m.gradNorm.toFixed(3)} decode ${m.decodeTokensPerSecond.toFixed(0)} tok/s train ${m.trainTokensPerSecond.toFixed(0)} tok/s`);
      if (m.step % 10 === 0) ctx.log(`  sample (reward ${m.samples[0].reward}): ${JSON.stringify(m.samples[0].completion.slice(0, 160))}`);
    }
  } else {
    let examples = tok.examples;
    let exampleWeights: Float32Array | undefined;
    if (mode === 'offline') {
      const how = str(flags, 'offline', 'filtered');
      if (how !== 'filtered' && how !== 'weighted') throw new UsageError(`--offline must be filtered or weighted, got ${how}`);
      const sel = offlineSelection(examples, train, how);
      examples = sel.examples;
      exampleWeights = sel.weights;
      ctx.log(`offline RL (${how} BC): ${examples.length} of ${sel.scored} scored examples used`);
    }
    const state = newSftState(examples.length, seed);
    await runSft(model, opt, tokenizer, examples, [], {
      steps, batchSize: B, gradAccum: num(flags, 'accum', 1), schedule, seed, logEvery: 10, evalEvery: 0, evalMaxNewTokens: maxNewTokens, exampleWeights,
    }, state, {
      onStep: (m) => {
        metrics.push(m);
        ctx.log(`step ${m.step}/${steps} loss ${m.loss.toFixed(4)} lr ${m.lr.toExponential(2)} grad-norm ${m.gradNorm.toFixed(3)} ${m.tokensPerSecond.toFixed(0)} tok/s eta ${m.eta.toFixed(0)} s`);
      },
    });
  }

  const after = await evaluate(model, tokenizer, evalItems, { maxNewTokens, onProgress: (d, n) => ctx.log(`eval after: ${d}/${n}`) });
  evalLog('after', after);
  ctx.log(`sample: ${JSON.stringify(after.samples[0]?.completion.slice(0, 200))}`);
  if (before) for (const line of accuracyTable([['before', before], ['after', after]])) ctx.log(line);

  const out = str(flags, 'out', '');
  if (out) {
    const base = await readF32(e.gpu, model.params.flat);
    const loraFlat = lora ? await readF32(e.gpu, model.loraParams!.flat) : undefined;
    const hf = exportHfModel(model.layout, base, { lora: loraFlat });
    await ctx.writeFile(`${out}/config.json`, hf.configJson);
    await ctx.writeFile(`${out}/model.safetensors`, new Uint8Array(await hf.safetensors.arrayBuffer()));
    await ctx.writeFile(`${out}/tokenizer.json`, loaded.tokenizerJson);
    if (loaded.tokenizerConfig) await ctx.writeFile(`${out}/tokenizer_config.json`, loaded.tokenizerConfig);
    if (lora && loraFlat) {
      const peft = exportPeft(model.layout, loraFlat, { baseModel: modelDir });
      await ctx.writeFile(`${out}/adapter/adapter_config.json`, peft.adapterConfigJson);
      await ctx.writeFile(`${out}/adapter/adapter_model.safetensors`, new Uint8Array(await peft.adapterSafetensors.arrayBuffer()));
    }
    await ctx.writeFile(`${out}/metrics.json`, JSON.stringify({ mode, style: tStyle, steps, before: before && { ...before, samples: before.samples.slice(0, 10) }, after: { ...after, samples: after.samples.slice(0, 10) }, metrics }, null, 2));
    ctx.log(`wrote ${out}`);
  }
  return { before, after };
}
