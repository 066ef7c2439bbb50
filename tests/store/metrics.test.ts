import 'fake-indexeddb/auto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PlantuneDb } from '../../src/store/db';
import { logMetrics, metricSeries, metricsAtStep, runMetrics } from '../../src/store/metrics';
import { openTestDb } from './fixtures';

describe('metrics', () => {
  let db: PlantuneDb;
  beforeEach(async () => (db = await openTestDb()));
  afterEach(() => db.close());

  it('returns a series by increasing numeric step', async () => {
    for (const step of [100, 2, 10]) await logMetrics(db, 'r1', step, { loss: step / 1000, reward: step }, 5);
    await logMetrics(db, 'r2', 1, { loss: 9 });
    expect(await metricSeries(db, 'r1', 'loss')).toEqual([
      { step: 2, value: 0.002 },
      { step: 10, value: 0.01 },
      { step: 100, value: 0.1 },
    ]);
    expect(await metricSeries(db, 'r1', 'missing')).toEqual([]);
  });

  it('overwrites a step logged again (after a resume) instead of duplicating it', async () => {
    await logMetrics(db, 'r1', 10, { loss: 2 });
    await logMetrics(db, 'r1', 10, { loss: 1.5 });
    expect(await metricSeries(db, 'r1', 'loss')).toEqual([{ step: 10, value: 1.5 }]);
  });

  it('reads all metrics of one step, and all of a run by step then name', async () => {
    await logMetrics(db, 'r1', 20, { loss: 1, 'eval/accuracy': 0.25, 'tokens/s': 900 }, 7);
    await logMetrics(db, 'r1', 3, { loss: 2 }, 6);
    await logMetrics(db, 'r1', 20, { lr: 1e-4 }, 7);
    expect(await metricsAtStep(db, 'r1', 20)).toEqual({ loss: 1, 'eval/accuracy': 0.25, 'tokens/s': 900, lr: 1e-4 });
    expect((await runMetrics(db, 'r1')).map((m) => `${m.step}:${m.name}`)).toEqual([
      '3:loss',
      '20:eval/accuracy',
      '20:loss',
      '20:lr',
      '20:tokens/s',
    ]);
    expect((await runMetrics(db, 'r1'))[0]).toEqual({ runId: 'r1', step: 3, name: 'loss', value: 2, time: 6 });
  });

  it('keeps non-finite values such as a diverged loss', async () => {
    await logMetrics(db, 'r1', 1, { loss: Number.NaN, grad_norm: Number.POSITIVE_INFINITY });
    expect(await metricsAtStep(db, 'r1', 1)).toEqual({ loss: Number.NaN, grad_norm: Number.POSITIVE_INFINITY });
  });
});
