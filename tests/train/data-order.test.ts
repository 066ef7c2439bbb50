// The seeded RNG (known answers, state round-trip, uniformity) and the epoch order built on it
// (permutations, determinism, and resume == uninterrupted).

import { describe, expect, it } from 'vitest';
import { DataOrder } from '../../src/train/data-order';
import { Rng, shuffle } from '../../src/train/rng';

/** Pearson's chi-square statistic of observed counts against a uniform expectation. */
function chiSquare(counts: readonly number[]): number {
  const expected = counts.reduce((a, b) => a + b, 0) / counts.length;
  return counts.reduce((sum, c) => sum + (c - expected) ** 2 / expected, 0);
}

describe('Rng (xoshiro128**)', () => {
  it('matches the reference algorithm from a known state', () => {
    // Outputs of the C reference (prng.di.unimi.it/xoshiro128starstar.c) seeded with s = {1, 2, 3, 4}.
    const rng = Rng.fromState([1, 2, 3, 4]);
    expect(Array.from({ length: 6 }, () => rng.nextU32())).toEqual([11520, 0, 5927040, 70819200, 2031721883, 1637235492]);
  });

  it('is fixed by its seed, and different seeds give different streams', () => {
    const draw = (seed: number) => {
      const rng = Rng.seeded(seed);
      return Array.from({ length: 8 }, () => rng.nextU32());
    };
    expect(draw(42)).toEqual(draw(42));
    expect(draw(42)).not.toEqual(draw(43));
    expect(draw(0)).not.toEqual(draw(2 ** 32 - 1));
  });

  it('round-trips its state through JSON and continues the same sequence', () => {
    const a = Rng.seeded(7);
    for (let i = 0; i < 1000; i++) a.nextU32();
    const b = Rng.fromState(JSON.parse(JSON.stringify(a.state())) as number[]);
    const next = (r: Rng) => [r.nextU32(), r.float(), r.int(10), r.int(2 ** 32)];
    for (let i = 0; i < 100; i++) expect(next(b)).toEqual(next(a));
  });

  it('rejects bad seeds and states with a readable message', () => {
    expect(() => Rng.seeded(-1)).toThrow('seed must be an integer in [0, 2^32)');
    expect(() => Rng.seeded(1.5)).toThrow('seed must be an integer');
    expect(() => Rng.fromState([1, 2, 3])).toThrow('RNG state must be 4 integers');
    expect(() => Rng.fromState([1, 2, 3, 2 ** 32])).toThrow('RNG state must be 4 integers');
    expect(() => Rng.fromState([0, 0, 0, 0])).toThrow('all zeros');
    expect(() => Rng.seeded(1).int(0)).toThrow('int(n) needs an integer n');
  });

  it('draws uniform floats and unbiased integers', () => {
    const rng = Rng.seeded(123);
    const counts = new Array<number>(7).fill(0);
    for (let i = 0; i < 70_000; i++) counts[rng.int(7)]++;
    // 6 degrees of freedom: P(chi2 > 22.5) ~ 0.001.
    expect(chiSquare(counts)).toBeLessThan(22.5);
    const floats = Array.from({ length: 10_000 }, () => rng.float());
    expect(Math.min(...floats)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...floats)).toBeLessThan(1);
    expect(floats.reduce((a, b) => a + b, 0) / floats.length).toBeCloseTo(0.5, 1);
  });

  it('shuffle is a permutation, uniform over all orders', () => {
    const rng = Rng.seeded(5);
    const counts = new Map<string, number>();
    for (let i = 0; i < 24_000; i++) {
      const key = shuffle([0, 1, 2, 3], rng).join('');
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    expect(counts.size).toBe(24);
    // 23 degrees of freedom: P(chi2 > 49.7) ~ 0.001.
    expect(chiSquare([...counts.values()])).toBeLessThan(49.7);
    expect(shuffle([], rng)).toEqual([]);
    expect(shuffle(['a'], rng)).toEqual(['a']);
  });
});

describe('DataOrder', () => {
  /** `count` batches of `size` drawn straight through. */
  const run = (order: DataOrder, size: number, count: number) => Array.from({ length: count }, () => order.next(size));

  it('visits every example once per epoch, in a fresh order each epoch', () => {
    const n = 10;
    const order = new DataOrder(n, 1);
    const epochs = [0, 1, 2].map(() => order.next(n));
    const identity = Array.from({ length: n }, (_, i) => i);
    for (const e of epochs) expect([...e].sort((a, b) => a - b)).toEqual(identity);
    expect(epochs[0]).not.toEqual(epochs[1]);
    expect(epochs[1]).not.toEqual(epochs[2]);
    expect([order.epoch, order.position]).toEqual([3, 0]);
  });

  it('runs batches across epoch ends and keeps every batch full', () => {
    const straight = new DataOrder(7, 9).next(21);
    const order = new DataOrder(7, 9);
    const batches = run(order, 3, 7);
    expect(batches.every((b) => b.length === 3)).toBe(true);
    expect(batches.flat()).toEqual(straight);
    expect([order.epoch, order.position]).toEqual([3, 0]);
    // A batch larger than the data set spans epochs.
    const big = new DataOrder(3, 2).next(8);
    expect(big).toHaveLength(8);
    expect([...big.slice(0, 3)].sort()).toEqual([0, 1, 2]);
    expect([...big.slice(3, 6)].sort()).toEqual([0, 1, 2]);
  });

  it('is fixed by its seed', () => {
    expect(run(new DataOrder(50, 3), 8, 20)).toEqual(run(new DataOrder(50, 3), 8, 20));
    expect(run(new DataOrder(50, 3), 8, 20)).not.toEqual(run(new DataOrder(50, 4), 8, 20));
  });

  it.each([
    [13, 4, 0],
    [13, 4, 3],
    [13, 4, 13], // restore right after an epoch end
    [13, 5, 7],
    [100, 32, 9],
    [3, 8, 2],
  ])('n = %i, batch %i: saving after %i batches and resuming gives the uninterrupted sequence', (n, size, k) => {
    const total = 3 * Math.ceil(n / size) + k;
    const straight = run(new DataOrder(n, 11), size, total);

    const first = new DataOrder(n, 11);
    const before = run(first, size, k);
    const saved = JSON.parse(JSON.stringify(first)) as ReturnType<DataOrder['toJSON']>;
    const resumed = DataOrder.fromJSON(saved, n);
    expect([resumed.epoch, resumed.position]).toEqual([first.epoch, first.position]);
    expect([...before, ...run(resumed, size, total - k)]).toEqual(straight);
  });

  it('returns put-back indices first, and keeps them across save and restore', () => {
    const order = new DataOrder(20, 5);
    const a = order.next(6);
    order.putBack(a.slice(4));
    const saved = order.toJSON();
    expect(saved.pending).toEqual(a.slice(4));
    const straight = run(order, 6, 5);
    expect(straight[0].slice(0, 2)).toEqual(a.slice(4));
    expect(run(DataOrder.fromJSON(saved), 6, 5)).toEqual(straight);
    expect(() => order.putBack([20])).toThrow('putBack: index 20 is outside [0, 20)');
  });

  it('refuses a saved order for a data set of another size, and bad states', () => {
    const saved = new DataOrder(10, 1).toJSON();
    expect(() => DataOrder.fromJSON(saved, 12)).toThrow('covers 10 examples, but the data set has 12');
    expect(() => DataOrder.fromJSON({ ...saved, position: 10 })).toThrow('position 10 is outside [0, 10)');
    expect(() => DataOrder.fromJSON({ ...saved, epochRng: [0, 0, 0, 0] })).toThrow('all zeros');
    expect(() => new DataOrder(0, 1)).toThrow('at least one example');
    expect(() => new DataOrder(5, 1).next(0)).toThrow('batch size must be a positive integer');
  });
});
