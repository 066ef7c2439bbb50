// The eval before/after rows: accuracy with its count, pass@k, and accuracy by number of plan steps.
import { describe, expect, it } from 'vitest';
import { evalComparison } from '../../src/ui/eval-table';
import type { EvalSummary } from '../../src/worker/api';

const before: EvalSummary = { step: 0, n: 4, accuracy: 0.25, bySteps: { 1: [2, 1], 3: [2, 0] }, samples: [] };
const after: EvalSummary = { step: 10, n: 4, accuracy: 0.5, bySteps: { 1: [2, 2], 3: [2, 0] }, passAtK: { k: 4, value: 0.75 }, samples: [] };

describe('evalComparison', () => {
  it('compares the first and the last eval row by row, with the change in percentage points', () => {
    const rows = evalComparison(before, after);
    expect(rows.map((r) => [r.key, r.label, r.before.text, r.after?.text, r.change])).toEqual([
      ['accuracy', 'Accuracy (greedy)', '25.0% (1/4)', '50.0% (2/4)', '+25.0 pts'],
      ['pass-at-k', 'pass@4', '—', '75.0%', undefined],
      ['steps-1', '1-step problems', '1/2 (50.0%)', '2/2 (100.0%)', '+50.0 pts'],
      ['steps-3', '3-step problems', '0/2 (0.0%)', '0/2 (0.0%)', '±0.0 pts'],
    ]);
    expect(rows[0].after?.value).toBe(0.5);
  });

  it('writes a drop with a minus sign', () => {
    expect(evalComparison(after, before)[0].change).toBe('−25.0 pts');
  });

  it('leaves the after column empty while there is one eval', () => {
    const rows = evalComparison(before);
    expect(rows.map((r) => r.key)).toEqual(['accuracy', 'steps-1', 'steps-3']);
    expect(rows.every((r) => r.after === undefined && r.change === undefined)).toBe(true);
  });

  it('counts correct answers from the accuracy when no plan-step breakdown exists', () => {
    expect(evalComparison({ step: 0, n: 20, accuracy: 0.15, bySteps: {}, samples: [] })[0].before.text).toBe('15.0% (3/20)');
  });

  it('shows a step count that only one eval has, with — in the other column', () => {
    const rows = evalComparison(before, { ...after, bySteps: { 1: [2, 2], 2: [1, 1] } });
    expect(rows.filter((r) => r.key.startsWith('steps-')).map((r) => [r.label, r.before.text, r.after?.text])).toEqual([
      ['1-step problems', '1/2 (50.0%)', '2/2 (100.0%)'],
      ['2-step problems', '—', '1/1 (100.0%)'],
      ['3-step problems', '0/2 (0.0%)', '—'],
    ]);
  });
});
