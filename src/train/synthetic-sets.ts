// The fixed synthetic data sets of the default model and the demo, disjoint by problem:
// pretraining text (facts + direct-answer problems), plan-SFT / RL training problems, and the
// held-out eval problems. Seeds are fixed so every run and the README's table use the same sets.
import { arithmeticFacts, syntheticProblems } from '../data/synthetic';
import type { Trajectory } from '../data/trajectory';

const PRETRAIN_SEED = 101;
const TRAIN_SEED = 202;
const EVAL_SEED = 303;

/** Held-out eval problems (1–5 steps), the same for every experiment. */
export function evalProblems(count: number): Trajectory[] {
  return syntheticProblems({ seed: EVAL_SEED, count, maxValue: 99 });
}

function withoutEval(rows: Trajectory[], evalCount: number): Trajectory[] {
  const held = new Set(evalProblems(evalCount).map((t) => t.problemId));
  return rows.filter((t) => !held.has(t.problemId));
}

/** Training problems for plan SFT / RL, with any eval problem removed (split by problem). */
export function trainProblems(count: number, evalCount: number): Trajectory[] {
  return withoutEval(syntheticProblems({ seed: TRAIN_SEED, count, maxValue: 99 }), evalCount);
}

/** The default model's pretraining corpus: arithmetic facts and direct-answer problems. */
export function pretrainCorpus(facts: number, problems: number, evalCount: number): { facts: string[]; problems: Trajectory[] } {
  return {
    facts: arithmeticFacts({ seed: PRETRAIN_SEED, count: facts, maxOperand: 99 }),
    problems: withoutEval(syntheticProblems({ seed: PRETRAIN_SEED, count: problems, maxValue: 99 }), evalCount),
  };
}
