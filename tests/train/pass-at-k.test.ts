// pass@k's estimator against the definition, counted by brute force: over every way of drawing k of n
// samples (c of them correct), the fraction of draws that hold a correct one.
import { describe, expect, it } from 'vitest';
import { passAtK } from '../../src/train/evaluate';
import { rng } from '../helpers/random';

/** Fraction of the k-subsets of {0..n-1} that contain an index below c (the correct samples). */
function bruteForce(n: number, c: number, k: number): number {
  let hit = 0;
  let all = 0;
  for (let mask = 0; mask < 1 << n; mask++) {
    let bits = 0;
    for (let i = 0; i < n; i++) bits += (mask >> i) & 1;
    if (bits !== k) continue;
    all++;
    if (mask & ((1 << c) - 1)) hit++;
  }
  return hit / all;
}

describe('pass@k', () => {
  it('matches the brute-force count on random (n, c, k)', () => {
    const rand = rng(11);
    for (let trial = 0; trial < 60; trial++) {
      const n = 1 + Math.floor(rand() * 12);
      const k = 1 + Math.floor(rand() * n);
      const c = Math.floor(rand() * (n + 1));
      expect(passAtK(n, c, k), `n=${n} c=${c} k=${k}`).toBeCloseTo(bruteForce(n, c, k), 12);
    }
  });

  it('with exactly k samples is 1 when one is correct, else 0', () => {
    for (const k of [1, 2, 5, 16]) {
      expect(passAtK(k, 0, k)).toBe(0);
      for (let c = 1; c <= k; c++) expect(passAtK(k, c, k)).toBe(1);
    }
  });

  it('pass@1 is the fraction correct', () => {
    expect(passAtK(10, 3, 1)).toBeCloseTo(0.3, 12);
    expect(passAtK(200, 37, 1)).toBeCloseTo(37 / 200, 12);
  });

  it('refuses impossible counts', () => {
    expect(() => passAtK(4, 5, 2)).toThrow(/0 <= c <= n/);
    expect(() => passAtK(3, 1, 4)).toThrow(/k <= n/);
    expect(() => passAtK(3, 1, 0)).toThrow(RangeError);
  });
});
