// Train/eval splits by problem, never by row: all rows of one problemId land on the same side. This is
// what keeps the decomposition sets (socratic, AI-SubQ, Plan-Tuning — all written on the GSM8K test
// problems) from leaking eval problems into training.

import { hashUnit } from './hash';
import type { Trajectory } from './trajectory';

export interface Split {
  train: Trajectory[];
  eval: Trajectory[];
}

function problemIds(rows: readonly Trajectory[]): string[] {
  return [...new Set(rows.map((r) => r.problemId))];
}

/**
 * Deterministic split: the distinct problemIds are ordered by a seeded hash, and the first
 * round(evalFraction * problems) of them go to eval. The result depends on the seed and the set of
 * problems, not on row order. With 0 < evalFraction < 1 and at least two problems, both sides get one.
 */
export function splitByProblem(rows: readonly Trajectory[], options: { evalFraction: number; seed: number }): Split {
  const { evalFraction, seed } = options;
  if (!(evalFraction >= 0 && evalFraction <= 1)) throw new RangeError(`evalFraction must be in [0, 1], got ${evalFraction}`);
  const ids = problemIds(rows);
  const ordered = ids
    .map((id) => ({ id, key: hashUnit(id, seed) }))
    .sort((a, b) => a.key - b.key || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  let evalCount = Math.round(evalFraction * ids.length);
  if (evalFraction > 0 && evalFraction < 1 && ids.length >= 2) evalCount = Math.min(ids.length - 1, Math.max(1, evalCount));
  const evalIds = new Set(ordered.slice(0, evalCount).map((p) => p.id));
  return { train: rows.filter((r) => !evalIds.has(r.problemId)), eval: rows.filter((r) => evalIds.has(r.problemId)) };
}

/**
 * A whole dataset as eval: every row of `evalRows` is eval, and training rows about any eval problem
 * are taken out of train (returned as `removedFromTrain`, so the caller can report them).
 */
export function holdOutFile(trainRows: readonly Trajectory[], evalRows: readonly Trajectory[]): Split & { removedFromTrain: Trajectory[] } {
  const evalIds = new Set(evalRows.map((r) => r.problemId));
  return {
    train: trainRows.filter((r) => !evalIds.has(r.problemId)),
    eval: [...evalRows],
    removedFromTrain: trainRows.filter((r) => evalIds.has(r.problemId)),
  };
}

/** The problemIds present on both sides, sorted; a run must refuse to start unless this is empty. */
export function checkContamination(train: readonly Trajectory[], evalRows: readonly Trajectory[]): string[] {
  const evalIds = new Set(evalRows.map((r) => r.problemId));
  return problemIds(train).filter((id) => evalIds.has(id)).sort();
}
