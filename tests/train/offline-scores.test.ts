// Offline RL's computed scores judge the answer a row reached itself (a teacher's answer, or the one its
// solution states) against its gold finalAnswer; rows that state none stay unscored; 'dataset' keeps
// the rows' own rewards.
import { describe, expect, it } from 'vitest';
import type { Trajectory } from '../../src/data/trajectory';
import { computedCorrectness, scoredTrajectories } from '../../src/train/offline-scores';

const row = (id: string, over: Partial<Trajectory>): Trajectory => ({
  id, problemId: `p-${id}`, question: 'What is 3 plus 4?', plan: [{ subQuestion: 'What is 3 + 4?' }], solution: '', finalAnswer: { text: '7', value: 7 }, source: 'plantune', ...over,
});

describe('offline RL scores', () => {
  it('computes correctness from the row\'s own answer', () => {
    expect(computedCorrectness(row('a', { solution: '3 + 4 = 7\n#### 7' }))).toBe(1);
    expect(computedCorrectness(row('b', { solution: '3 + 4 = 8\n#### 8' }))).toBe(0);
    expect(computedCorrectness(row('c', { solution: 'So the answer is 7.' }))).toBe(1);
    expect(computedCorrectness(row('d', { solution: '3 + 4 = 7' }))).toBeUndefined(); // states no final answer
    expect(computedCorrectness(row('e', {}))).toBeUndefined();
    // A teacher's answer wins over the solution text; the gold answer itself is never the row's own.
    expect(computedCorrectness(row('f', { solution: '#### 7', meta: { generatedFinalAnswer: '$8' } }))).toBe(0);
    expect(computedCorrectness(row('g', { meta: { generatedFinalAnswer: '7.0' } }))).toBe(1);
  });

  it("replaces the dataset's score with the computed one, or drops it when the row states no answer", () => {
    const rows = [
      row('a', { solution: '#### 8', rewards: { answerCorrectness: 1, usefulness: [1] } }),
      row('b', { solution: 'no answer', rewards: { answerCorrectness: 1 } }),
      row('c', { solution: '#### 7' }),
    ];
    expect(scoredTrajectories(rows, 'computed').map((t) => t.rewards)).toEqual([{ answerCorrectness: 0, usefulness: [1] }, {}, { answerCorrectness: 1 }]);
    expect(scoredTrajectories(rows, 'dataset').map((t) => t.rewards?.answerCorrectness)).toEqual([1, 1, undefined]);
    expect(rows[0].rewards?.answerCorrectness).toBe(1); // the input is not changed
  });
});
