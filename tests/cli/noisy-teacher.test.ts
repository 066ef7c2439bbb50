// The noisy teacher of the experiment's filtered-BC row: slips carried through the plan, and the
// score is the correctness of the answer the teacher reached.
import { describe, expect, it } from 'vitest';
import { noisyTeacher } from '../../src/cli/noisy-teacher';
import { syntheticProblems } from '../../src/data/synthetic';
import type { Trajectory } from '../../src/data/trajectory';

const STEP = /^(\d+) ([-+*/]) (\d+) = (\d+)$/;

function handMade(): Trajectory {
  return {
    id: 'p1',
    problemId: 'p1',
    question: 'Ann has 7 apples. She buys 5 more apples. Then she gives 3 apples to Ben. How many apples does Ann have now?',
    plan: [
      { subQuestion: 'How many apples does Ann have after buying 5 more?', subAnswer: '7 + 5 = 12' },
      { subQuestion: 'How many apples does Ann have after giving 3 to Ben?', subAnswer: '12 - 3 = 9' },
    ],
    solution: '7 + 5 = 12\n12 - 3 = 9\n#### 9',
    finalAnswer: { text: '9', value: 9 },
    source: 'plantune',
    meta: { steps: 2 },
  };
}

describe('noisyTeacher', () => {
  it('with no slips writes the gold plan and scores every trajectory 1', () => {
    const gold = syntheticProblems({ seed: 5, count: 200, maxValue: 99 });
    const taught = noisyTeacher(gold, { slipRate: 0, seed: 1 });
    taught.forEach((t, i) => {
      expect(t.plan).toEqual(gold[i].plan);
      expect(t.rewards?.answerCorrectness).toBe(1);
      expect(t.meta?.generatedFinalAnswer).toBe(gold[i].finalAnswer.text);
      expect(t.problemId).toBe(gold[i].problemId);
    });
  });

  it('carries a slip into the later steps and the final answer, and scores it 0', () => {
    const t = noisyTeacher([handMade()], { slipRate: 1, seed: 3 })[0];
    const [s1, s2] = t.plan.map((s) => STEP.exec(s.subAnswer!)!);
    expect([s1[1], s1[2], s1[3]]).toEqual(['7', '+', '5']);
    const v1 = Number(s1[4]);
    expect(Math.abs(v1 - 12)).toBeGreaterThanOrEqual(1);
    expect(Math.abs(v1 - 12)).toBeLessThanOrEqual(5);
    expect(Number(s2[1])).toBe(v1); // the teacher's own (wrong) value, not the gold 12
    expect([s2[2], s2[3]]).toEqual(['-', '3']);
    const v2 = Number(s2[4]);
    expect(Math.abs(v2 - (v1 - 3))).toBeGreaterThanOrEqual(1);
    expect(t.meta?.generatedFinalAnswer).toBe(String(v2));
    expect(t.solution.endsWith(`#### ${v2}`)).toBe(true);
    expect(t.finalAnswer).toEqual({ text: '9', value: 9 }); // the gold answer stays the task's
    expect(t.rewards?.answerCorrectness).toBe(v2 === 9 ? 1 : 0);
  });

  it('gets a k-step problem right about (1 - slip rate)^k of the time, so longer problems are filtered out more', () => {
    const taught = noisyTeacher(syntheticProblems({ seed: 9, count: 2000, maxValue: 99 }), { slipRate: 0.13, seed: 2 });
    for (let k = 1; k <= 5; k++) {
      const rows = taught.filter((t) => t.plan.length === k);
      const right = rows.filter((t) => t.rewards?.answerCorrectness === 1).length / rows.length;
      expect(rows.length).toBeGreaterThan(300);
      expect(Math.abs(right - 0.87 ** k), `${k} steps: ${right}`).toBeLessThan(0.08);
    }
    for (const t of taught) expect(t.rewards?.answerCorrectness).toBe(t.meta?.generatedFinalAnswer === t.finalAnswer.text ? 1 : 0);
  });

  it('refuses a slip rate outside [0, 1] and plans that are not the synthetic task', () => {
    expect(() => noisyTeacher([handMade()], { slipRate: 1.5, seed: 1 })).toThrow(/slip rate must be in \[0, 1\]/);
    const odd = { ...handMade(), plan: [{ subQuestion: 'How many?', subAnswer: 'twelve' }] };
    expect(() => noisyTeacher([odd], { slipRate: 0.1, seed: 1 })).toThrow(/p1: step 1 "twelve" is not "a op b = c"/);
  });
});
