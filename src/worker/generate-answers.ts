// Free-form questions answered by a model on the GPU: each question rendered as the training prompt
// (renderPrompt: the same for every template style), completions generated over the KV cache, their
// final answers extracted. The model is built for this call only (no gradients) and destroyed after.
import { extractFinalAnswer } from '../data/answers';
import { renderPrompt } from '../data/templates';
import type { Tokenizer } from '../data/tokenizer/load';
import type { Engine } from '../gpu/engine';
import type { ModelConfig } from '../model/config';
import { generateWithCache } from '../model/generate-cached';
import { Transformer } from '../model/transformer';
import type { SampleView } from './run-types';

export interface AnswerOptions {
  /** Tokens generated per question [160]. */
  maxNewTokens?: number;
  /** 0 = greedy [0]. */
  temperature?: number;
  /** Sampling seed [1]. */
  seed?: number;
}

/** Rows generated at once: enough to batch a page's handful of questions, small for memory. */
const MAX_ROWS = 8;

/** Refuses an empty list, a blank question or a bad option (before any model is loaded). */
export function checkQuestions(questions: readonly string[], opts: AnswerOptions = {}): void {
  if (!Array.isArray(questions) || questions.length === 0) throw new Error('give at least one question');
  questions.forEach((q, i) => {
    if (typeof q !== 'string' || !q.trim()) throw new Error(`question ${i + 1} is empty`);
  });
  const { maxNewTokens = 160, temperature = 0 } = opts;
  if (!Number.isInteger(maxNewTokens) || maxNewTokens < 1) throw new RangeError(`maxNewTokens must be a positive integer, got ${maxNewTokens}`);
  if (!Number.isFinite(temperature) || temperature < 0) throw new RangeError(`temperature must be a number >= 0, got ${temperature}`);
}

/** The prompts' token ids; each must leave room in the context to answer. */
function promptIds(questions: readonly string[], tokenizer: Tokenizer, maxT: number): number[][] {
  return questions.map((q, i) => {
    const ids = tokenizer.encode(renderPrompt(q), { addBos: true });
    if (ids.length >= maxT) throw new RangeError(`question ${i + 1} is ${ids.length} tokens as a prompt; the model's context is ${maxT}, which leaves no room to answer: shorten it`);
    return ids;
  });
}

/** One completion per question (same order), with the answer read from it; `truncated` when it hit maxNewTokens or the context. */
export async function answerQuestions(
  e: Engine, model: { config: ModelConfig; params: Float32Array; tokenizer: Tokenizer }, questions: readonly string[], opts: AnswerOptions = {},
): Promise<SampleView[]> {
  const { config, params, tokenizer } = model;
  checkQuestions(questions, opts);
  const { maxNewTokens = 160, temperature = 0 } = opts;
  const prompts = promptIds(questions, tokenizer, config.maxT);
  // (B, T): rows at once, and the longest prompt plus its answer within the context.
  const B = Math.min(prompts.length, MAX_ROWS);
  const T = Math.min(config.maxT, Math.max(...prompts.map((p) => p.length)) + maxNewTokens);
  const gpuModel = new Transformer(e, config, { B, T, train: false });
  try {
    gpuModel.params.upload(params);
    const gens = await generateWithCache(gpuModel, prompts, {
      maxNewTokens, temperature, seed: opts.seed ?? 1, eosIds: [tokenizer.eosId], padId: tokenizer.padId,
    });
    return gens.map((g, i) => {
      const completion = tokenizer.decode(g.tokens, { skipSpecial: true });
      return { prompt: renderPrompt(questions[i]!), completion, predicted: extractFinalAnswer(completion)?.text ?? null, truncated: g.finish === 'length' };
    });
  } finally {
    gpuModel.destroy();
  }
}
