// Eval accuracy: generate a completion for each held-out prompt (greedy by default), extract
// its final answer and compare it with the gold one. Reports accuracy overall and by the
// number of plan steps, with sample completions. pass@k: k sampled completions per prompt, and
// the fraction of prompts with at least one correct (Chen et al. 2021's unbiased estimator,
// which for exactly k samples is that fraction).
import { answersMatch, extractFinalAnswer } from '../data/answers';
import type { Tokenizer } from '../data/tokenizer/load';
import type { GenerateOptions } from '../model/generate';
import { generateWithCache } from '../model/generate-cached';
import type { Transformer } from '../model/transformer';
import type { PromptItem } from './batches';

export interface EvalSample {
  id: string;
  prompt: string;
  completion: string;
  gold: string;
  predicted: string | null;
  correct: boolean;
  steps: number;
}

export interface EvalResult {
  n: number;
  correct: number;
  accuracy: number;
  /** Steps in the gold plan -> [n, correct]. */
  bySteps: Record<number, [number, number]>;
  samples: EvalSample[];
  tokensGenerated: number;
  seconds: number;
}

export interface EvalOptions extends Partial<GenerateOptions> {
  maxNewTokens: number;
  onProgress?: (done: number, total: number) => void;
}

export async function evaluate(model: Transformer, tokenizer: Tokenizer, items: readonly PromptItem[], opts: EvalOptions): Promise<EvalResult> {
  const t0 = performance.now();
  const result: EvalResult = { n: 0, correct: 0, accuracy: 0, bySteps: {}, samples: [], tokensGenerated: 0, seconds: 0 };
  const chunk = model.genRows;
  for (let i = 0; i < items.length; i += chunk) {
    const part = items.slice(i, i + chunk);
    const gens = await generateWithCache(model, part.map((it) => Array.from(it.prompt)), {
      temperature: 0,
      eosIds: [tokenizer.eosId],
      padId: tokenizer.padId,
      ...opts,
      firstRow: (opts.firstRow ?? 0) + i, // item i samples with row i of the key, as if all were generated in one call
    });
    part.forEach((it, j) => {
      const completion = tokenizer.decode(gens[j].tokens, { skipSpecial: true });
      const predicted = extractFinalAnswer(completion);
      const correct = answersMatch(predicted, it.answer);
      result.n++;
      result.correct += correct ? 1 : 0;
      result.tokensGenerated += gens[j].tokens.length;
      const s = (result.bySteps[it.steps] ??= [0, 0]);
      s[0]++;
      s[1] += correct ? 1 : 0;
      result.samples.push({
        id: it.id,
        prompt: tokenizer.decode(Array.from(it.prompt), { skipSpecial: true }),
        completion,
        gold: it.answer.text,
        predicted: predicted?.text ?? null,
        correct,
        steps: it.steps,
      });
    });
    opts.onProgress?.(Math.min(items.length, i + chunk), items.length);
  }
  result.accuracy = result.n ? result.correct / result.n : 0;
  result.seconds = (performance.now() - t0) / 1000;
  return result;
}

/**
 * Unbiased pass@k from n samples of which c are correct (Chen et al. 2021, "Evaluating Large Language
 * Models Trained on Code", eq. 1): 1 − C(n−c, k) / C(n, k), the chance that k of the n drawn without
 * replacement hold a correct one. With n = k it is 1 when c > 0, else 0.
 */
export function passAtK(n: number, c: number, k: number): number {
  if (!Number.isInteger(n) || !Number.isInteger(c) || !Number.isInteger(k) || k < 1 || n < k || c < 0 || c > n) {
    throw new RangeError(`passAtK needs integers 1 <= k <= n and 0 <= c <= n, got n = ${n}, c = ${c}, k = ${k}`);
  }
  if (n - c < k) return 1;
  // C(n−c, k) / C(n, k) = Π_{i=n−c+1}^{n} (1 − k / i), computed as a product to stay in range.
  let fail = 1;
  for (let i = n - c + 1; i <= n; i++) fail *= 1 - k / i;
  return 1 - fail;
}

export interface PassAtKResult {
  k: number;
  /** Mean of pass@k over the prompts. */
  value: number;
  /** Correct completions of each prompt, out of k. */
  correct: number[];
}

export interface PassAtKOptions {
  k: number;
  maxNewTokens: number;
  /** Sampling temperature (default 1). */
  temperature?: number;
  seed: number;
  onProgress?: (done: number, total: number) => void;
}

/** k sampled completions per prompt (each prompt repeated k times, one seeded sampling pass), scored like `evaluate`. */
export async function evaluatePassAtK(model: Transformer, tokenizer: Tokenizer, items: readonly PromptItem[], opts: PassAtKOptions): Promise<PassAtKResult> {
  const { k } = opts;
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`pass@k needs an integer k >= 1, got ${k}`);
  const copies = items.flatMap((it) => Array.from({ length: k }, () => it));
  const sampled = await evaluate(model, tokenizer, copies, {
    maxNewTokens: opts.maxNewTokens, temperature: opts.temperature ?? 1, seed: opts.seed, onProgress: opts.onProgress,
  });
  const correct = items.map((_, p) => sampled.samples.slice(p * k, (p + 1) * k).filter((s) => s.correct).length);
  const value = correct.length ? correct.reduce((sum, c) => sum + passAtK(k, c, k), 0) / correct.length : 0;
  return { k, value, correct };
}
