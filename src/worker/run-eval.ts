// A run's evaluation at one step: greedy accuracy on the held-out prompts (overall and by plan length),
// pass@k when configured, the first samples; sent as an 'eval' event, stored (evals table) and logged as
// metrics (accuracy, passAtK). Progress events cover the greedy and the sampled generations.
import type { Tokenizer } from '../data/tokenizer/load';
import type { Transformer } from '../model/transformer';
import type { PlantuneDb } from '../store/db';
import { storeEval } from '../store/evals';
import type { PromptItem } from '../train/batches';
import { evaluate, evaluatePassAtK } from '../train/evaluate';
import type { TrainerHooks } from './run-trainer';
import type { EvalSummary, RunConfig } from './run-types';

/** Samples kept with an evaluation. */
const EVAL_SAMPLES = 8;

/** pass@k's sampling seed: one per run (every evaluation of the run samples alike), a mix of the run seed unlike GRPO's seeds. */
const passKSeed = (runSeed: number): number => (Math.imul(runSeed, 0x9e3779b1) ^ 0x5bd1e995) >>> 0;

export async function evaluateRun(
  db: PlantuneDb, runId: string, step: number, model: Transformer, tokenizer: Tokenizer, items: readonly PromptItem[], c: RunConfig, hooks: TrainerHooks,
): Promise<EvalSummary> {
  const k = c.passK ?? 0;
  const total = items.length * (1 + k);
  const progress = (done: number) => hooks.emit({ type: 'progress', phase: 'evaluating', done, total });
  progress(0);
  const greedy = await evaluate(model, tokenizer, items, { maxNewTokens: c.maxNewTokens!, onProgress: (done) => progress(done) });
  const passAtK = k > 0
    ? await evaluatePassAtK(model, tokenizer, items, { k, maxNewTokens: c.maxNewTokens!, seed: passKSeed(c.seed!), onProgress: (done) => progress(items.length + done) })
    : undefined;
  const summary: EvalSummary = {
    step, n: greedy.n, accuracy: greedy.accuracy, bySteps: greedy.bySteps,
    ...(passAtK ? { passAtK: { k, value: passAtK.value } } : {}),
    samples: greedy.samples.slice(0, EVAL_SAMPLES).map(({ prompt, completion, gold, predicted, correct }) => ({ prompt, completion, gold, predicted, correct })),
  };
  await storeEval(db, runId, summary);
  hooks.log(step, { accuracy: summary.accuracy, ...(passAtK ? { passAtK: passAtK.value } : {}) });
  hooks.emit({ type: 'eval', step, accuracy: summary.accuracy, bySteps: summary.bySteps, ...(summary.passAtK ? { passAtK: summary.passAtK } : {}), samples: summary.samples });
  return summary;
}
