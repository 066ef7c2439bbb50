// A run's evaluation samples as Plantune JSONL (docs/plantune-jsonl.md): one trajectory per sample,
// with the eval question, the model's completion as the solution (its plan read back from it), the gold
// answer, and whether the completion's answer was right as rewards.answerCorrectness — so a run's
// outputs can be re-imported, e.g. as scored trajectories for offline RL (filtered or weighted BC).
import { parseNumber } from '../data/answers';
import { toPlantuneLine } from '../data/formats/plantune';
import { problemIdFor } from '../data/problem-id';
import { parseCompletion, parsePrompt } from '../data/templates';
import type { PlanStep, Trajectory } from '../data/trajectory';
import type { EvalSummary } from './run-types';

/**
 * One trajectory per eval sample that has a gold answer (every eval sample does). The same completion
 * for the same problem at several evaluations is one row, with every step in `meta.evalSteps` (the data
 * module would reject the repeats as duplicates).
 */
export function evalTrajectories(runId: string, evals: readonly EvalSummary[]): Trajectory[] {
  const rows = new Map<string, Trajectory & { meta: { evalSteps: number[] } }>();
  for (const ev of evals) {
    ev.samples.forEach((s, i) => {
      const question = parsePrompt(s.prompt);
      const gold = s.gold?.trim();
      if (!question || !gold) return;
      const problemId = problemIdFor(question);
      const key = JSON.stringify([problemId, s.completion, gold, s.correct ?? null]);
      const seen = rows.get(key);
      if (seen) {
        seen.meta.evalSteps.push(ev.step);
        return;
      }
      const value = parseNumber(gold);
      rows.set(key, {
        id: `${runId}:eval-${ev.step}:${i}`,
        problemId,
        question,
        plan: planOf(s.completion),
        solution: s.completion,
        finalAnswer: value === undefined ? { text: gold } : { text: gold, value },
        source: 'plantune',
        ...(s.correct === undefined ? {} : { rewards: { answerCorrectness: s.correct ? 1 : 0 } }),
        meta: {
          runId,
          evalSteps: [ev.step],
          predicted: s.predicted ?? null,
          ...(s.truncated === undefined ? {} : { truncated: s.truncated }),
        },
      });
    });
  }
  return [...rows.values()];
}

/** The plan written in a completion, in any template syntax; steps without a sub-question are left out. */
function planOf(completion: string): PlanStep[] {
  return parseCompletion(completion).plan.flatMap((step) => {
    const subQuestion = step.subQuestion.trim();
    const subAnswer = step.subAnswer?.trim();
    return subQuestion ? [subAnswer ? { subQuestion, subAnswer } : { subQuestion }] : [];
  });
}

/** trajectories.jsonl: one Plantune JSON line per trajectory. */
export function trajectoriesJsonl(rows: readonly Trajectory[]): string {
  return rows.map((t) => toPlantuneLine(t) + '\n').join('');
}
