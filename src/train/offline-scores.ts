// The scores offline RL trains on (see offline.ts): the dataset's own `rewards.answerCorrectness`
// (GSM8K-AI-SubQ, teacher runs), or computed by Plantune from each row's own answer. A row's
// `finalAnswer` is always the gold answer, so the computed score judges what the row itself reached:
// the teacher's answer (`meta.generatedFinalAnswer`) or the answer its solution text states. A row
// that states no answer of its own is left unscored.
import { extractFinalAnswer } from '../data/answers';
import { correctnessReward } from '../data/rewards';
import { FINAL_ANSWER_MARKER } from '../data/templates';
import type { Trajectory } from '../data/trajectory';

export type OfflineScores = 'dataset' | 'computed';

/** The answer a row reached itself, as a completion to score; undefined when it states none. */
function ownAnswer(t: Trajectory): string | undefined {
  const generated = t.meta?.generatedFinalAnswer;
  if (typeof generated === 'string' && generated.trim()) return `${FINAL_ANSWER_MARKER} ${generated.trim()}`;
  return extractFinalAnswer(t.solution, { allowFallback: false }) ? t.solution : undefined;
}

/** Plantune's correctness reward (1 or 0) of the row's own answer against its gold answer; undefined when it states none. */
export function computedCorrectness(t: Trajectory): number | undefined {
  const completion = ownAnswer(t);
  return completion === undefined ? undefined : correctnessReward({ completion, gold: t.finalAnswer, style: 'plan-then-solve' });
}

/**
 * The rows with `rewards.answerCorrectness` set from `scores`: unchanged for 'dataset'; for 'computed',
 * the computed score (removed where the row states no answer of its own).
 */
export function scoredTrajectories(rows: readonly Trajectory[], scores: OfflineScores): Trajectory[] {
  if (scores === 'dataset') return [...rows];
  return rows.map((t) => {
    const answerCorrectness = computedCorrectness(t);
    const { answerCorrectness: _dataset, ...rest } = t.rewards ?? {};
    return { ...t, rewards: answerCorrectness === undefined ? rest : { ...rest, answerCorrectness } };
  });
}
