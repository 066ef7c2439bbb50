// The trainers as a run uses them (issue #6, Speed), on a fresh device per configuration:
//   SFT   runSft on tokenized synthetic plan-then-solve problems (padded batches, one example per
//         row): real (non-padding) training tokens per second over timed steps after a warm-up step
//   GRPO  one GrpoTrainer step after those (prompts × G completions sampled with the KV cache at
//         temperature 1, scored, one update): its training tokens/s (B·T rows of the rollouts) and
//         decode tokens/s (completion tokens over the sampling time)
//   decode greedy generation with the KV cache of prompts × G prompts (GRPO's rollouts), EOS ignored
//         so every row generates the same number of tokens: generated tokens per second (prefill
//         included), all decoded at once (genB = prompts × G, as a run takes when memory allows)
//         and, side by side on a second copy of the model, B at a time (the model's batch)
import { trainProblems } from '../../src/train/synthetic-sets';
import { byteLevelTokenizerConfig, byteLevelTokenizerJson } from '../../src/data/tokenizer/byte-level';
import { type Tokenizer, loadTokenizer } from '../../src/data/tokenizer/load';
import { Engine } from '../../src/gpu/engine';
import { type ModelConfig, tinyLlama } from '../../src/model/config';
import { generateWithCache } from '../../src/model/generate-cached';
import { initParams } from '../../src/model/init';
import { loadModelFiles } from '../../src/model/model-files';
import { Transformer } from '../../src/model/transformer';
import { promptBatch, tokenizeExamples } from '../../src/train/batches';
import { GrpoTrainer } from '../../src/train/grpo';
import { AdamW, DEFAULT_ADAMW } from '../../src/train/optimizer';
import { type SftConfig, newSftState, runSft } from '../../src/train/sft';
import type { HeadlessContext } from '../../src/cli/headless-entry';
import { generationTokenizer } from '../../src/worker/run-tokenizer';
import { median, row } from '../timing';

export interface ModeBenchConfig {
  key: string;
  name: string;
  /** A config with random weights, or the shipped default model (its weights and tokenizer). */
  model: ModelConfig | { dir: string };
  B: number;
  T: number;
  sftSteps: number;
  grpo: { prompts: number; G: number; maxNewTokens: number };
  decodeTokens: number;
}

const DEFAULT_DIR = 'public/models/plantune-tiny';

export const MODE_CONFIGS: ModeBenchConfig[] = [
  {
    key: 'llama-modes', name: 'llama 6L d256 8h/4kv F688 V512 (random)',
    model: tinyLlama({ V: 512, C: 256, L: 6, NH: 8, NKV: 4, F: 688, maxT: 256 }),
    B: 4, T: 256, sftSteps: 3, grpo: { prompts: 4, G: 4, maxNewTokens: 160 }, decodeTokens: 64,
  },
  {
    key: 'default-modes', name: 'default model 6L d128 4h/2kv (plantune-tiny)',
    model: { dir: DEFAULT_DIR },
    B: 8, T: 256, sftSteps: 3, grpo: { prompts: 4, G: 4, maxNewTokens: 160 }, decodeTokens: 64,
  },
];

export interface ModeResult {
  bc: ModeBenchConfig;
  sft: { tokensPerSecond: number; msPerStep: number };
  grpo: { seconds: number; trainTokensPerSecond: number; decodeTokensPerSecond: number; completionTokens: number; rewardMean: number };
  decode: { tokensPerSecond: number; tokens: number; batchAtATime: number };
}

export interface ModeFailure {
  bc: ModeBenchConfig;
  error: string;
}

type Log = (line: string) => void;

/** The model and the tokenizer a run would generate with (ids past the byte vocabulary decode as U+FFFD). */
async function loadModel(ctx: HeadlessContext, bc: ModeBenchConfig): Promise<{ config: ModelConfig; params: Float32Array | null; tokenizer: Tokenizer }> {
  if (!('dir' in bc.model)) {
    const tokenizer = await loadTokenizer(byteLevelTokenizerJson(), byteLevelTokenizerConfig(bc.model.maxT));
    return { config: bc.model, params: null, tokenizer: generationTokenizer(tokenizer, bc.model.V) };
  }
  const files = new Map<string, Blob>();
  for (const name of ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json']) files.set(name, new Blob([await ctx.readFile(`${bc.model.dir}/${name}`)]));
  const loaded = await loadModelFiles(files);
  return { config: loaded.config, params: loaded.params, tokenizer: await loadTokenizer(loaded.tokenizerJson!, loaded.tokenizerConfig) };
}

async function measure(ctx: HeadlessContext, bc: ModeBenchConfig, log: Log): Promise<ModeResult> {
  const { config, params, tokenizer } = await loadModel(ctx, bc);
  const e = await Engine.create();
  const genB = bc.grpo.prompts * bc.grpo.G;
  const model = new Transformer(e, config, { B: bc.B, T: bc.T, genB });
  const opt = new AdamW(e, model.params, model.grads!, DEFAULT_ADAMW);
  try {
    model.params.upload(params ?? initParams(model.layout, 1));
    const { examples } = tokenizeExamples(trainProblems(400, 0), tokenizer, { style: 'plan-then-solve', maxLength: bc.T + 1 });
    const sftCfg = (steps: number): SftConfig => ({
      steps, batchSize: bc.B, gradAccum: 1, seed: 1, logEvery: steps, evalEvery: 0, evalMaxNewTokens: 0,
      schedule: { lr: 1e-4, warmupSteps: 1, decay: 'constant' },
    });
    const state = newSftState(examples.length, 1);
    const t0 = performance.now();
    await runSft(model, opt, tokenizer, examples, [], sftCfg(1), state);
    log(`  SFT warm-up step ${((performance.now() - t0) / 1000).toFixed(1)} s (${examples.length} examples fit T = ${bc.T})`);
    const t1 = performance.now();
    const { last } = await runSft(model, opt, tokenizer, examples, [], sftCfg(1 + bc.sftSteps), state);
    const sft = { tokensPerSecond: last!.tokensPerSecond, msPerStep: (performance.now() - t1) / bc.sftSteps };
    log(`  SFT: ${bc.sftSteps} steps, ${sft.tokensPerSecond.toFixed(1)} tok/s, ${(sft.msPerStep / 1000).toFixed(1)} s/step`);

    const items = promptBatch(examples, examples.map((_, i) => i));
    const prompts = items.slice(0, genB).map((it) => Array.from(it.prompt));
    // The same weights, generating the model's batch B at a time.
    const narrow = new Transformer(e, config, { B: bc.B, T: bc.T, train: false });
    e.rec.copy(model.params.flat, narrow.params.flat);
    const greedy = async (m: Transformer) => {
      const t = performance.now();
      const tokens = (await generateWithCache(m, prompts, { maxNewTokens: bc.decodeTokens, temperature: 0, eosIds: [], padId: tokenizer.padId }))
        .reduce((s, g) => s + g.tokens.length, 0);
      return { tokens, tokensPerSecond: tokens / ((performance.now() - t) / 1000) };
    };
    await greedy(model); // compiles the decode kernels
    await greedy(narrow);
    const rates: [number[], number[]] = [[], []];
    let tokens = 0;
    for (let round = 0; round < 2; round++) {
      for (const [i, m] of [model, narrow].entries()) {
        const r = await greedy(m);
        rates[i].push(r.tokensPerSecond);
        tokens = r.tokens;
      }
    }
    narrow.destroy();
    const decode = { tokensPerSecond: median(rates[0]), tokens, batchAtATime: median(rates[1]) };
    log(`  greedy decode: ${tokens} tokens from ${prompts.length} prompts, ${decode.tokensPerSecond.toFixed(1)} tok/s all at once, ` +
      `${decode.batchAtATime.toFixed(1)} tok/s ${bc.B} at a time (median of 2 interleaved rounds each)`);

    const trainer = new GrpoTrainer(model, opt, tokenizer, items, {
      steps: 1, ...bc.grpo, temperature: 1, epsilon: 0.2, epsilonHigh: 0.2, beta: 0, numIterations: 1, scale: 'group', maskTruncated: true,
      rewardWeights: { correctness: 1, format: 0.1 }, style: 'plan-then-solve', schedule: { lr: 1e-5, warmupSteps: 1, decay: 'constant' }, seed: 1,
    });
    const t3 = performance.now();
    const m = await trainer.runStep();
    const grpo = {
      seconds: (performance.now() - t3) / 1000, trainTokensPerSecond: m.trainTokensPerSecond, decodeTokensPerSecond: m.decodeTokensPerSecond,
      completionTokens: m.completionTokens, rewardMean: m.rewardMean,
    };
    log(`  GRPO step: ${grpo.seconds.toFixed(1)} s, ${m.completionTokens} completion tokens, decode ${grpo.decodeTokensPerSecond.toFixed(1)} tok/s, train ${grpo.trainTokensPerSecond.toFixed(1)} tok/s`);
    return { bc, sft, grpo, decode };
  } finally {
    opt.destroy();
    model.destroy();
    e.gpu.destroy();
  }
}

export async function runModeConfig(ctx: HeadlessContext, bc: ModeBenchConfig, log: Log): Promise<ModeResult | ModeFailure> {
  try {
    return await measure(ctx, bc, log);
  } catch (err) {
    const error = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    log(`  failed: ${error}`);
    return { bc, error };
  }
}

export function modesTable(results: (ModeResult | ModeFailure)[], log: Log): void {
  const W = [44, 8, 10, 10, 12, 12, 12, 11, 12, 12];
  log(row(['config', 'B x T', 'SFT tok/s', 'SFT s/step', 'GRPO s/step', 'GRPO train', 'GRPO decode', 'completion', 'greedy dec.', 'B at a time'], W));
  log(row(['', '', '', '', '', 'tok/s', 'tok/s', 'tokens', 'tok/s', 'tok/s'], W));
  for (const r of results) {
    if ('error' in r) {
      log(row([r.bc.name, `${r.bc.B} x ${r.bc.T}`, `FAILED: ${r.error}`], W));
      continue;
    }
    log(row([
      r.bc.name, `${r.bc.B} x ${r.bc.T}`, r.sft.tokensPerSecond.toFixed(1), (r.sft.msPerStep / 1000).toFixed(1), r.grpo.seconds.toFixed(1),
      r.grpo.trainTokensPerSecond.toFixed(1), r.grpo.decodeTokensPerSecond.toFixed(1), r.grpo.completionTokens, r.decode.tokensPerSecond.toFixed(1),
      r.decode.batchAtATime.toFixed(1),
    ], W));
  }
}
