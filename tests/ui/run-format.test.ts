// The page's run figures: ETA and durations, metric values, and the sentence that describes a chart.
import { describe, expect, it } from 'vitest';
import { describeSeries, formatDuration, learningRate, percent, rate, significant } from '../../src/ui/run-format';

describe('formatDuration (the ETA)', () => {
  it('writes seconds, minutes with seconds, and hours with minutes', () => {
    expect(formatDuration(0)).toBe('0 s');
    expect(formatDuration(44.4)).toBe('44 s');
    expect(formatDuration(59.6)).toBe('1 min 00 s');
    expect(formatDuration(185)).toBe('3 min 05 s');
    expect(formatDuration(3599.4)).toBe('59 min 59 s');
    expect(formatDuration(3600)).toBe('1 h 00 min');
    expect(formatDuration(7620)).toBe('2 h 07 min');
    expect(formatDuration(7199)).toBe('2 h 00 min');
    expect(formatDuration(50 * 3600 + 61)).toBe('50 h 01 min');
  });

  it('says "—" when the time is unknown', () => {
    for (const s of [Number.NaN, Infinity, -1]) expect(formatDuration(s)).toBe('—');
  });
});

describe('metric values', () => {
  it('keeps significant digits without exponents for everyday magnitudes', () => {
    expect(significant(3.704512)).toBe('3.705');
    expect(significant(0.0012346)).toBe('0.001235');
    expect(significant(123456.7)).toBe('123500');
    expect(significant(0)).toBe('0');
    expect(significant(-2.5)).toBe('-2.5');
    expect(significant(0.00001234)).toBe('1.234e-5');
    expect(significant(Number.NaN)).toBe('NaN');
  });

  it('writes learning rates, percentages and rates', () => {
    expect(learningRate(0.0003)).toBe('3.00e-4');
    expect(learningRate(0)).toBe('0');
    expect(percent(0.25)).toBe('25.0%');
    expect(percent(1 / 3)).toBe('33.3%');
    expect(rate(213.6)).toBe('214');
    expect(rate(1234.4)).toBe('1,234');
    expect(rate(3.14)).toBe('3.1');
  });
});

describe('describeSeries (a chart’s text alternative)', () => {
  const fmt = (v: number) => v.toFixed(2);
  it('says when there is nothing yet', () => expect(describeSeries([], fmt)).toBe('No points yet.'));
  it('describes one point', () => expect(describeSeries([{ step: 3, value: 1.5 }], fmt)).toBe('1 point: 1.50 at step 3.'));
  it('gives the range of steps, the latest, the lowest and the highest value', () => {
    const points = [
      { step: 1, value: 3.7 },
      { step: 2, value: 2.9 },
      { step: 3, value: 1.1 },
      { step: 4, value: 1.3 },
    ];
    expect(describeSeries(points, fmt)).toBe('4 points from step 1 to step 4; latest 1.30 at step 4; lowest 1.10 at step 3; highest 3.70 at step 1.');
  });
  it('leaves non-finite values out of the extremes but reports a NaN latest value', () => {
    const points = [
      { step: 1, value: 2 },
      { step: 2, value: Number.NaN },
    ];
    expect(describeSeries(points, fmt)).toBe('2 points from step 1 to step 2; latest NaN at step 2; lowest 2.00 at step 1; highest 2.00 at step 1.');
  });
});
