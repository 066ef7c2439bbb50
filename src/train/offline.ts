// Offline RL on scored trajectories (arXiv 2402.01812): filtered behaviour cloning keeps the
// examples whose final answer was correct; reward-weighted BC keeps every scored example with
// its answer correctness as the loss weight. Examples without a score are left out of both.
import type { Trajectory } from '../data/trajectory';
import type { TokenizedExample } from './batches';

export type OfflineMethod = 'filtered' | 'weighted';

export interface OfflineSelection {
  examples: TokenizedExample[];
  /** Per-example loss weights (weighted BC), indexed like `examples`. */
  weights?: Float32Array;
  /** Examples that carried a score. */
  scored: number;
}

export function offlineSelection(examples: readonly TokenizedExample[], trajectories: readonly Trajectory[], method: OfflineMethod): OfflineSelection {
  const score = new Map(trajectories.map((t) => [t.id, t.rewards?.answerCorrectness]));
  const scored = examples.filter((x) => score.get(x.id) !== undefined);
  if (!scored.length) {
    throw new Error('offline RL needs scored trajectories (rewards.answerCorrectness), e.g. GSM8K-AI-SubQ qg_test_dataset.jsonl or a Plantune JSONL with rewards');
  }
  if (method === 'filtered') return { examples: scored.filter((x) => score.get(x.id) === 1), scored: scored.length };
  return { examples: scored, weights: Float32Array.from(scored, (x) => score.get(x.id)!), scored: scored.length };
}
