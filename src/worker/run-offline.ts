// The rows an offline-RL run trains on: scored by the dataset or by Plantune (offline-scores.ts), then
// only the correct ones (filtered BC) or every scored one with its score as the loss weight
// (reward-weighted BC). Data that leaves nothing to learn is refused with the reason.
import type { Trajectory } from '../data/trajectory';
import type { TokenizedExample } from '../train/batches';
import { offlineSelection } from '../train/offline';
import { scoredTrajectories } from '../train/offline-scores';
import type { OfflineRunSettings } from './run-types';

type Settings = Required<OfflineRunSettings>;

/** The training rows with their scores; throws when none is scored, or none would teach anything. */
export function scoreRows(train: readonly Trajectory[], { method, scores }: Settings): Trajectory[] {
  const scored = scoredTrajectories(train, scores);
  const values = scored.flatMap((t) => (t.rewards?.answerCorrectness === undefined ? [] : [t.rewards.answerCorrectness]));
  if (!values.length) {
    throw new Error(scores === 'computed'
      ? `offline scores "computed" need rows that reach an answer of their own (a solution ending in "#### x", or a teacher's answer); none of the ${train.length} training rows does: use scores "dataset" for rows with rewards.answerCorrectness`
      : `none of the ${train.length} training rows has a score (rewards.answerCorrectness): offline RL needs scored trajectories, e.g. GSM8K-AI-SubQ's qg_test_dataset.jsonl or a Plantune JSONL with rewards; or use scores "computed"`);
  }
  if (method === 'filtered' && !values.includes(1)) {
    throw new Error(`none of the ${values.length} scored training rows is correct (answer correctness 1): filtered BC has nothing to train on; try weighted BC or other data`);
  }
  if (method === 'weighted' && values.every((v) => v === 0)) {
    throw new Error(`all ${values.length} scored training rows have answer correctness 0: reward-weighted BC would learn nothing`);
  }
  return scored;
}

/** The examples to train on (and their weights), with a note for the status line. */
export function selectOffline(examples: readonly TokenizedExample[], scored: readonly Trajectory[], method: Settings['method']): { examples: TokenizedExample[]; weights?: Float32Array; note: string } {
  const sel = offlineSelection(examples, scored, method);
  if (method === 'filtered') {
    if (!sel.examples.length) throw new Error(`none of the ${sel.scored} scored training examples that fit seq is correct: filtered BC has nothing to train on; raise seq or try weighted BC`);
    return { examples: sel.examples, note: `${sel.examples.length} examples (filtered BC: the correct ones of ${sel.scored} scored)` };
  }
  if (!sel.weights!.some((w) => w !== 0)) throw new Error(`all ${sel.scored} scored training examples that fit seq have answer correctness 0: reward-weighted BC would learn nothing; raise seq`);
  return { examples: sel.examples, weights: sel.weights, note: `${sel.examples.length} examples (reward-weighted BC: every scored one, weighted by its score)` };
}
