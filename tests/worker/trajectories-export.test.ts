import { describe, expect, it } from 'vitest';
import { problemIdFor } from '../../src/data/problem-id';
import { renderPrompt } from '../../src/data/templates';
import { importFile } from '../../src/data/validate';
import { evalTrajectories, trajectoriesJsonl } from '../../src/worker/trajectories-export';
import type { EvalSummary, SampleView } from '../../src/worker/run-types';

const q1 = 'Ann has 7 apples and buys 5 more. How many apples does she have?';
const q2 = 'Ben reads 3 pages a day for 4 days. How many pages does he read?';

function sample(question: string, completion: string, gold: string, correct: boolean): SampleView {
  return { prompt: renderPrompt(question), completion, gold, predicted: correct ? gold : '1', correct };
}

const evals: EvalSummary[] = [
  {
    step: 0, n: 2, accuracy: 0, bySteps: {},
    samples: [sample(q1, '#### 1', '12', false), sample(q2, 'Q1: How many pages?\nQ2:\n#### 1', '12', false)],
  },
  {
    step: 4, n: 2, accuracy: 0.5, bySteps: {},
    samples: [
      sample(q1, 'Plan:\n1. How many apples after buying?\nSolution:\n1. 7 + 5 = 12\n#### 12', '12', true),
      // The same completion for the same problem as at step 0.
      sample(q2, 'Q1: How many pages?\nQ2:\n#### 1', '12', false),
    ],
  },
];

describe('eval samples as Plantune JSONL', () => {
  it('writes question, completion, gold answer and correctness, with the plan read from the completion', () => {
    const rows = evalTrajectories('run-x', evals);
    expect(rows).toHaveLength(3);
    const [first, second, third] = rows;
    expect(first).toMatchObject({
      id: 'run-x:eval-0:0', problemId: problemIdFor(q1), question: q1, plan: [], solution: '#### 1',
      finalAnswer: { text: '12', value: 12 }, source: 'plantune', rewards: { answerCorrectness: 0 },
      meta: { runId: 'run-x', evalSteps: [0], predicted: '1' },
    });
    // A blank sub-question (`Q2:`) is not a plan step; the row is kept.
    expect(second?.plan).toEqual([{ subQuestion: 'How many pages?' }]);
    expect(second?.meta).toMatchObject({ evalSteps: [0, 4] });
    expect(third).toMatchObject({
      id: 'run-x:eval-4:0',
      plan: [{ subQuestion: 'How many apples after buying?', subAnswer: '7 + 5 = 12' }],
      rewards: { answerCorrectness: 1 },
    });
  });

  it('re-imports through the data module with nothing rejected and the same trajectories', async () => {
    const rows = evalTrajectories('run-x', evals);
    const { trajectories, summary } = await importFile(new Blob([trajectoriesJsonl(rows)]), { file: 'trajectories.jsonl' });
    expect(summary).toMatchObject({ format: 'plantune', rows: 3, kept: 3, rejected: 0, duplicates: 0, fileErrors: [] });
    expect(trajectories).toEqual(rows);
  });

  it('leaves out a sample without a gold answer, and is empty for a run without evaluations', () => {
    const noGold: EvalSummary = { step: 1, n: 1, accuracy: 0, bySteps: {}, samples: [{ prompt: renderPrompt(q1), completion: '#### 3' }] };
    expect(evalTrajectories('r', [noGold])).toEqual([]);
    expect(trajectoriesJsonl(evalTrajectories('r', []))).toBe('');
  });
});
