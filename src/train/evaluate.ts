// Eval accuracy: generate a completion for each held-out prompt (greedy by default), extract
// its final answer and compare it with the gold one. Reports accuracy overall and by the
// number of plan steps, with sample completions.
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
  const chunk = model.opts.B;
  for (let i = 0; i < items.length; i += chunk) {
    const part = items.slice(i, i + chunk);
    const gens = await generateWithCache(model, part.map((it) => Array.from(it.prompt)), {
      temperature: 0,
      eosIds: [tokenizer.eosId],
      padId: tokenizer.padId,
      ...opts,
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
