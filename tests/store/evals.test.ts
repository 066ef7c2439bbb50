import 'fake-indexeddb/auto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PlantuneDb } from '../../src/store/db';
import { listEvals, storeEval } from '../../src/store/evals';
import type { EvalSummary } from '../../src/worker/run-types';
import { openTestDb } from './fixtures';

function summary(step: number, accuracy: number): EvalSummary {
  return {
    step,
    n: 4,
    accuracy,
    bySteps: { 1: [2, 1], 3: [2, accuracy * 2] },
    samples: [{ prompt: `Q${step}`, completion: 'Plan:\n1. x\n#### 7', gold: '7', predicted: '7', correct: true }],
  };
}

describe('evals', () => {
  let db: PlantuneDb;
  beforeEach(async () => (db = await openTestDb()));
  afterEach(() => db.close());

  it('lists a run\'s evaluations in step order, not insertion order, and no other run\'s', async () => {
    await storeEval(db, 'r1', summary(20, 0.5));
    await storeEval(db, 'r1', summary(0, 0));
    await storeEval(db, 'r1', summary(10, 0.25));
    await storeEval(db, 'r2', summary(5, 1));
    expect((await listEvals(db, 'r1')).map((e) => [e.step, e.accuracy])).toEqual([[0, 0], [10, 0.25], [20, 0.5]]);
    expect(await listEvals(db, 'r2')).toEqual([summary(5, 1)]);
    expect(await listEvals(db, 'none')).toEqual([]);
  });

  it('replaces the evaluation of the same step (a resumed run evaluating again)', async () => {
    await storeEval(db, 'r1', summary(10, 0.25));
    await storeEval(db, 'r1', { ...summary(10, 0.75), passAtK: { k: 4, value: 1 } });
    const evals = await listEvals(db, 'r1');
    expect(evals).toHaveLength(1);
    expect(evals[0]).toEqual({ ...summary(10, 0.75), passAtK: { k: 4, value: 1 } });
    expect('runId' in evals[0]!).toBe(false);
  });

  it('stores a copy: later changes to the caller\'s summary do not reach the store', async () => {
    const s = summary(3, 0.5);
    await storeEval(db, 'r1', s);
    s.accuracy = 1;
    s.samples[0]!.completion = 'changed';
    const [stored] = await listEvals(db, 'r1');
    expect(stored?.accuracy).toBe(0.5);
    expect(stored?.samples[0]?.completion).toBe('Plan:\n1. x\n#### 7');
  });

  it('refuses a step that is not a non-negative integer', async () => {
    await expect(storeEval(db, 'r1', summary(-1, 0))).rejects.toThrow('non-negative integer, got -1');
    await expect(storeEval(db, 'r1', summary(1.5, 0))).rejects.toThrow('got 1.5');
    expect(await db.evals.count()).toBe(0);
  });
});
