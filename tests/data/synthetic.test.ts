import { describe, expect, it } from 'vitest';
import { parseNumber } from '../../src/data/answers';
import { arithmeticFacts, seededRandom, syntheticProblems } from '../../src/data/synthetic';
import { validateTrajectory } from '../../src/data/validate';

/** Evaluates "a op b = c" and says whether it holds. */
function holds(equation: string): boolean {
  const m = /^(\d+) ([-+*/]) (\d+) = (\d+)$/.exec(equation);
  if (!m) return false;
  const [a, op, b, c] = [Number(m[1]), m[2], Number(m[3]), Number(m[4])];
  const value = op === '+' ? a + b : op === '-' ? a - b : op === '*' ? a * b : a / b;
  return value === c;
}

describe('syntheticProblems', () => {
  const problems = syntheticProblems({ seed: 42, count: 2000 });

  it('is deterministic for a seed, and a longer run extends a shorter one', () => {
    expect(syntheticProblems({ seed: 42, count: 2000 })).toEqual(problems);
    expect(syntheticProblems({ seed: 42, count: 10 })).toEqual(problems.slice(0, 10));
    expect(syntheticProblems({ seed: 43, count: 10 })).not.toEqual(problems.slice(0, 10));
  });

  it('every problem is valid, its steps are correct arithmetic, and they chain to the final answer', () => {
    for (const t of problems) {
      expect(validateTrajectory(t)).toBeUndefined();
      expect(t.source).toBe('plantune');
      expect(t.meta?.steps).toBe(t.plan.length);
      expect(t.plan.every((s) => holds(s.subAnswer ?? ''))).toBe(true);
      const last = t.plan[t.plan.length - 1].subAnswer ?? '';
      expect(Number(last.split(' = ')[1])).toBe(t.finalAnswer.value);
      expect(parseNumber(t.finalAnswer.text)).toBe(t.finalAnswer.value);
      expect(t.solution.split('\n').pop()).toBe(`#### ${t.finalAnswer.text}`);
    }
  });

  it('covers 1 to 5 steps, keeps values within 0..999, and uses a small vocabulary', () => {
    const steps = new Map<number, number>();
    const words = new Set<string>();
    let maxValue = 0;
    for (const t of problems) {
      steps.set(t.plan.length, (steps.get(t.plan.length) ?? 0) + 1);
      for (const n of `${t.question} ${t.solution}`.match(/\d+/g) ?? []) maxValue = Math.max(maxValue, Number(n));
      for (const w of `${t.question} ${t.plan.map((s) => s.subQuestion).join(' ')}`.toLowerCase().match(/[a-z]+/g) ?? []) words.add(w);
    }
    expect([...steps.keys()].sort()).toEqual([1, 2, 3, 4, 5]);
    for (const n of [1, 2, 3, 4, 5]) expect(steps.get(n)).toBeGreaterThan(250);
    expect(maxValue).toBeLessThanOrEqual(999);
    expect(words.size).toBeLessThan(100);
    console.log(`synthetic: steps ${JSON.stringify(Object.fromEntries([...steps].sort()))}, largest number ${maxValue}, ${words.size} distinct words`);
  });

  it('respects step bounds and a smaller value cap', () => {
    const two = syntheticProblems({ seed: 1, count: 300, minSteps: 2, maxSteps: 2, maxValue: 50 });
    expect(two.every((t) => t.plan.length === 2)).toBe(true);
    expect(two.every((t) => (`${t.solution}`.match(/\d+/g) ?? []).every((n) => Number(n) <= 50))).toBe(true);
    expect(() => syntheticProblems({ seed: 1, count: 1, minSteps: 3, maxSteps: 2 })).toThrow(RangeError);
  });

  it('reads as plain sentences', () => {
    expect(problems.filter((p) => /\b1 (more )?[a-z]+s\b/.test(p.question)).map((p) => p.question)).toEqual([]); // no "1 more apples"
    const [t] = syntheticProblems({ seed: 5, count: 1, minSteps: 2, maxSteps: 2 });
    expect(t.question).toMatch(/^[A-Z][a-z]+ has \d+ [a-z]+\. [A-Z][^.]*\. Then [^.]*\. How many [a-z]+ (does [A-Z][a-z]+ have now|are in each group)\?$/);
  });
});

describe('arithmeticFacts', () => {
  it('are true, deterministic, and use all four operations', () => {
    const facts = arithmeticFacts({ seed: 3, count: 1000 });
    expect(arithmeticFacts({ seed: 3, count: 1000 })).toEqual(facts);
    expect(facts.every(holds)).toBe(true);
    for (const op of ['+', '-', '*', '/']) expect(facts.some((f) => f.includes(` ${op} `))).toBe(true);
    expect(facts.every((f) => f.split(' ').slice(0, 3).every((x) => !/^\d+$/.test(x) || Number(x) <= 144))).toBe(true);
  });
});

describe('seededRandom', () => {
  it('is uniform enough on [0, 1)', () => {
    const rand = seededRandom(9);
    const buckets = new Array(10).fill(0);
    for (let i = 0; i < 100_000; i++) buckets[Math.floor(rand() * 10)]++;
    for (const b of buckets) expect(Math.abs(b - 10_000)).toBeLessThan(500);
  });
});
