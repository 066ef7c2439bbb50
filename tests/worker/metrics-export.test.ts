import { describe, expect, it } from 'vitest';
import { metricsCsv, metricsJson } from '../../src/worker/metrics-export';
import type { RunConfig, RunMetrics } from '../../src/worker/run-types';

/** Plain CSV split (the test data has no quoted fields except where a test says so). */
const table = (csv: string) => csv.trimEnd().split('\r\n').map((l) => l.split(','));

describe('metrics CSV', () => {
  it('has step then one column per metric, one row per step, empty cells where a metric was not logged', () => {
    const metrics: RunMetrics = {
      loss: [1, 2, 3].map((step) => ({ step, value: 3 / step })),
      lr: [1, 2, 3].map((step) => ({ step, value: step * 1e-4 })),
      accuracy: [{ step: 0, value: 0 }, { step: 3, value: 0.5 }],
    };
    const rows = table(metricsCsv(metrics));
    expect(rows[0]).toEqual(['step', 'accuracy', 'loss', 'lr']);
    expect(rows.slice(1).map((r) => r[0])).toEqual(['0', '1', '2', '3']);
    expect(rows[1]).toEqual(['0', '0', '', '']);
    expect(rows[2]).toEqual(['1', '', '3', '0.0001']);
    expect(rows[4]).toEqual(['3', '0.5', '1', String(3 * 1e-4)]);
    for (const r of rows) expect(r).toHaveLength(4);
  });

  it('writes every number so that it reads back to the same double, negatives included', () => {
    const values = [0.1 + 0.2, -1.5e-9, 123456.789, -0];
    const csv = metricsCsv({ rewardMean: values.map((value, i) => ({ step: i + 1, value })) });
    expect(table(csv).slice(1).map((r) => Number(r[1]))).toEqual(values.map((v) => v + 0));
  });

  it('orders names by the step they first appear at, and quotes a name with a comma', () => {
    const csv = metricsCsv({ 'b,c': [{ step: 5, value: 1 }], z: [{ step: 1, value: 2 }], a: [{ step: 1, value: 3 }] });
    expect(csv.split('\r\n')[0]).toBe('step,a,z,"b,c"');
  });

  it('is a header only for a run with no metrics', () => {
    expect(metricsCsv({})).toBe('step\r\n');
  });
});

describe('metrics JSON', () => {
  it('holds the run, the metrics and the evaluations', () => {
    const config = { mode: 'sft', data: { synthetic: 4 }, steps: 2 } as RunConfig;
    const doc = { run: { id: 'r1', name: 'SFT', mode: 'sft' as const, config }, metrics: { loss: [{ step: 1, value: 2 }] }, evals: [{ step: 2, n: 1, accuracy: 1, bySteps: { 1: [1, 1] as [number, number] }, samples: [] }] };
    expect(JSON.parse(metricsJson(doc))).toEqual(doc);
  });
});
