import { describe, expect, it } from 'vitest';
import { composeRewards, correctnessReward, lengthPenalty, planFormatReward, type RewardInput } from '../../src/data/rewards';

const input = (completion: string, extra: Partial<RewardInput> = {}): RewardInput => ({ completion, gold: { text: '1,080', value: 1080 }, style: 'socratic', ...extra });

describe('correctnessReward', () => {
  it.each([
    ['Q1: x?\nA1: y\n#### 1080', 1],
    ['#### $1,080.', 1],
    ['so \\boxed{1080}', 1],
    ['Final answer: 1,080 dollars', 1],
    ['#### 1081', 0],
    ['#### 1080\n#### 7', 0],
    ['it is 1080', 0], // no explicit answer: the last-number fallback does not earn reward
    ['', 0],
  ])('%j -> %d', (completion, reward) => {
    expect(correctnessReward(input(completion))).toBe(reward);
  });

  it('compares with relative tolerance and against text answers', () => {
    expect(correctnessReward(input('#### 0.3333333', { gold: '1/3' }))).toBe(1);
    expect(correctnessReward(input('#### 0.33', { gold: '1/3' }))).toBe(0);
    expect(correctnessReward(input('\\boxed{p - q}', { gold: 'p-q' }))).toBe(1);
  });
});

describe('planFormatReward', () => {
  it.each([
    ['socratic', 'Q1: How many?\nA1: 3 + 4 = 7\n#### 7', 1],
    ['socratic', 'Q1: How many?\n#### 7', 0],
    ['socratic', 'Plan:\n1. x\n#### 7', 0],
    ['subq-only', 'Q1: How many?\nQ2: And then?\n#### 7', 1],
    ['subq-only', 'Q1:\n#### 7', 0],
    ['plan-then-solve', 'Plan:\n1. Add.\nSolution:\n1. 3 + 4 = 7\n#### 7', 1],
    ['plan-then-solve', 'Plan:\nSolution:\n#### 7', 0],
    ['plan-then-solve', 'Q1: a?\nA1: b\n#### 7', 0],
    ['direct', '#### 7', 1],
    ['direct', 'Q1: a?\n#### 7', 0],
    ['direct', 'seven', 0],
  ] as const)('%s: %j -> %d', (style, completion, reward) => {
    expect(planFormatReward(input(completion, { style }))).toBe(reward);
  });
});

describe('lengthPenalty', () => {
  const penalty = lengthPenalty({ free: 100, max: 200 });
  it('is 0 up to free, -1 from max, linear between; tokens win over characters', () => {
    expect(penalty(input('x'.repeat(100)))).toBe(-0);
    expect(penalty(input('x'.repeat(150)))).toBeCloseTo(-0.5);
    expect(penalty(input('x'.repeat(500)))).toBe(-1);
    expect(penalty(input('x'.repeat(500), { tokens: 120 }))).toBeCloseTo(-0.2);
  });

  it('refuses a bad range', () => {
    expect(() => lengthPenalty({ free: 10, max: 10 })).toThrow(RangeError);
  });
});

describe('composeRewards', () => {
  it('sums the weighted parts', () => {
    const reward = composeRewards([
      { fn: correctnessReward, weight: 1 },
      { fn: planFormatReward, weight: 0.2 },
      { fn: lengthPenalty({ free: 10, max: 20 }), weight: 0.5 },
    ]);
    const good = 'Q1: a?\nA1: b\n#### 1080'; // 20 characters: full length penalty
    expect(reward(input(good))).toBeCloseTo(1 + 0.2 - 0.5);
    expect(reward(input(good, { tokens: 5 }))).toBeCloseTo(1.2);
    expect(reward(input('#### 3', { tokens: 5 }))).toBe(0);
    expect(composeRewards([])(input(''))).toBe(0);
  });
});
