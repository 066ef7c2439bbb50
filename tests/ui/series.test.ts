// Chart series: stored history merged with live points (a resumed run repeats steps), aligned on one
// step axis for the chart, and the mean ± std band.
import { describe, expect, it } from 'vitest';
import { type Point, alignSeries, appendPoint, band, mergeSeries } from '../../src/ui/series';

const pts = (...pairs: [number, number][]): Point[] => pairs.map(([step, value]) => ({ step, value }));

describe('appendPoint / mergeSeries', () => {
  it('appends points in step order', () => {
    const s: Point[] = [];
    appendPoint(s, 1, 3);
    appendPoint(s, 2, 2);
    expect(s).toEqual(pts([1, 3], [2, 2]));
  });

  it('replaces a repeated step and drops the later points of an interrupted segment', () => {
    // Steps 1-6 were logged, the tab closed, the run resumed from the checkpoint at step 4.
    const s = pts([1, 3], [2, 2.5], [3, 2.1], [4, 1.9], [5, 1.8], [6, 1.7]);
    appendPoint(s, 5, 1.75);
    expect(s).toEqual(pts([1, 3], [2, 2.5], [3, 2.1], [4, 1.9], [5, 1.75]));
    appendPoint(s, 5, 1.74);
    expect(s.map((p) => p.step)).toEqual([1, 2, 3, 4, 5]);
    expect(s[4].value).toBe(1.74);
  });

  it('merges live points that overlap the loaded history without duplicates', () => {
    const history = pts([1, 4], [2, 3], [3, 2]);
    mergeSeries(history, pts([3, 2], [4, 1.5]));
    expect(history).toEqual(pts([1, 4], [2, 3], [3, 2], [4, 1.5]));
  });
});

describe('alignSeries', () => {
  it('puts series on the union of their steps with null where one has no point', () => {
    expect(alignSeries([pts([0, 0.1], [10, 0.4]), pts([10, 0.5]), []])).toEqual([[0, 10], [0.1, 0.4], [null, 0.5], [null, null]]);
  });

  it('sorts steps numerically, not as text', () => {
    const [steps] = alignSeries([pts([2, 1], [10, 1]), pts([1, 1], [9, 1])]);
    expect(steps).toEqual([1, 2, 9, 10]);
  });

  it('turns non-finite values into gaps', () => {
    expect(alignSeries([pts([1, Number.NaN], [2, Infinity], [3, 1])])).toEqual([[1, 2, 3], [null, null, 1]]);
  });

  it('is empty for no points', () => {
    expect(alignSeries([[], []])).toEqual([[], [], []]);
  });
});

describe('band', () => {
  it('gives mean + std and mean − std at the steps both series have', () => {
    const [upper, lower] = band(pts([1, 0.5], [2, 0.6], [3, 0.7]), pts([1, 0.1], [3, 0.2]));
    expect(upper.map((p) => p.step)).toEqual([1, 3]);
    expect(upper[0].value).toBeCloseTo(0.6, 12);
    expect(upper[1].value).toBeCloseTo(0.9, 12);
    expect(lower[0].value).toBeCloseTo(0.4, 12);
    expect(lower[1].value).toBeCloseTo(0.5, 12);
  });
});
