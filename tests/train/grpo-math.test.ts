import { describe, expect, it } from 'vitest';
import { groupAdvantages, grpoTokenWeights, type GrpoTokens } from '../../src/train/grpo-math';
import { learningRate } from '../../src/train/schedule';
import { rng } from '../helpers/random';

describe('groupAdvantages', () => {
  it('normalises within each group', () => {
    const adv = groupAdvantages([1, 0, 0, 1, 1, 1], 3, 'group');
    // group 1: mean 1/3, std sqrt(1/3) -> (2/3)/0.57735 = 1.1547
    expect(adv[0]).toBeCloseTo(1.1547, 3);
    expect(adv[1]).toBeCloseTo(-0.57735, 3);
    expect(Array.from(adv.slice(3))).toEqual([0, 0, 0]); // all-equal group: no signal
  });
  it('supports batch scale and none, and checks the group size', () => {
    expect(Array.from(groupAdvantages([2, 0], 2, 'none'))).toEqual([1, -1]);
    const b = groupAdvantages([2, 0, 1, 1], 2, 'batch');
    expect(b[0]).toBeCloseTo(1 / (Math.sqrt(2 / 3) + 1e-4), 6);
    expect(() => groupAdvantages([1, 2, 3], 2, 'group')).toThrow('not a multiple of the group size 2');
  });
});

describe('grpoTokenWeights', () => {
  const make = (seed: number, n: number): GrpoTokens => {
    const r = rng(seed);
    const logp = Array.from({ length: n }, () => -3 * r());
    return {
      logp,
      oldLogp: logp.map((x) => x + (r() - 0.5) * 0.6),
      refLogp: logp.map((x) => x + (r() - 0.5) * 0.5),
      advantage: Array.from({ length: n }, () => (r() - 0.5) * 4),
      mask: Array.from({ length: n }, () => (r() < 0.8 ? 1 : 0)),
    };
  };

  it('weights are minus the derivative of the loss w.r.t. log p (finite differences)', () => {
    const cfg = { epsilon: 0.2, epsilonHigh: 0.28, beta: 0.04 };
    const t = make(3, 40);
    const { weights } = grpoTokenWeights(t, cfg);
    const h = 1e-6;
    for (let i = 0; i < 40; i++) {
      const plus = Array.from(t.logp);
      const minus = Array.from(t.logp);
      plus[i] += h;
      minus[i] -= h;
      const fd = (grpoTokenWeights({ ...t, logp: plus }, cfg).loss - grpoTokenWeights({ ...t, logp: minus }, cfg).loss) / (2 * h);
      expect(weights[i]).toBeCloseTo(-fd, 4);
    }
  });

  it('with one iteration (old = current) and no KL, the weight is the advantage over the token count', () => {
    const t = make(5, 10);
    const same = { ...t, oldLogp: t.logp };
    const { weights, clipFraction } = grpoTokenWeights(same, { epsilon: 0.2, epsilonHigh: 0.2, beta: 0 });
    const count = Array.from(t.mask).filter(Boolean).length;
    for (let i = 0; i < 10; i++) expect(weights[i]).toBeCloseTo(t.mask[i] ? t.advantage[i] / count : 0, 6);
    expect(clipFraction).toBe(0);
  });
});

describe('learningRate', () => {
  it('warms up linearly then decays by cosine to the floor', () => {
    const cfg = { lr: 1e-3, warmupSteps: 10, totalSteps: 110, decay: 'cosine' as const, minLrRatio: 0.1 };
    expect(learningRate(cfg, 0)).toBeCloseTo(1e-4, 10);
    expect(learningRate(cfg, 9)).toBeCloseTo(1e-3, 10);
    expect(learningRate(cfg, 60)).toBeCloseTo(1e-4 + 0.9e-3 * 0.5, 10);
    expect(learningRate(cfg, 110)).toBeCloseTo(1e-4, 10);
    expect(learningRate({ ...cfg, decay: 'linear' }, 60)).toBeCloseTo(1e-4 + 0.9e-3 * 0.5, 10);
    expect(learningRate({ ...cfg, decay: 'constant' }, 100)).toBe(1e-3);
  });
});
