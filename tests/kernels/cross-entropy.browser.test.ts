import { afterEach, describe, expect, it } from 'vitest';
import { crossEntropy } from '../../src/kernels/cross-entropy';
import { testEngine } from '../helpers/gpu';
import { randArray, randInt, rng } from '../helpers/random';
import { crossEntropyRef } from '../reference/cross-entropy';
import { GpuData, finiteDiff, rowVariants, run } from './gpu-data';

const e = await testEngine();
const d = new GpuData(e);
afterEach(() => d.free());

/** Weights with masked rows (0), ordinary ones (1) and RL advantages (negative and positive). */
function randWeights(r: () => number, N: number): Float32Array {
  return Float32Array.from({ length: N }, (_, n) => (n % 4 === 1 ? 0 : n % 4 === 2 ? -0.5 - r() : n % 4 === 3 ? r() * 2 : 1));
}

const shapes: [number, number][] = [[1, 1], [1, 259], [5, 517], [133, 259], [3, 32000]];

describe(`cross-entropy on ${e.gpu.adapter.name}`, () => {
  for (const variant of rowVariants(e)) {
    for (const [N, V] of shapes) {
      for (const mode of ['separate', 'inplace'] as const) {
        it(`(N=${N}, V=${V}, ${variant}, dlogits ${mode}) matches the float64 reference`, async () => {
          const r = rng(N * V + (mode === 'inplace' ? 1 : 0));
          const logits = randArray(r, N * V, 6);
          const targets = Int32Array.from({ length: N }, () => randInt(r, 0, V - 1));
          const weights = randWeights(r, N);
          const dscale = 1 / Math.max(1, weights.filter((w) => w !== 0).length);
          const ref = crossEntropyRef(logits, targets, weights, N, V, dscale);
          const lt = d.tensor(logits, [N, V], 256);
          const out = { loss: d.poisoned([N]), logprob: d.poisoned([N], 'f32', 256), entropy: d.poisoned([N]) };
          const dlogits = mode === 'inplace' ? lt : d.poisoned([N, V]);
          await crossEntropy(e, lt, d.tensor(targets, [N]), d.tensor(weights, [N]), { ...out, dlogits: mode === 'inplace' ? 'inplace' : dlogits }, { dscale, variant });
          expect(await run(e, out.loss)).toAllClose(ref.loss);
          expect(await run(e, out.logprob)).toAllClose(ref.logprob);
          expect(await run(e, out.entropy)).toAllClose(ref.entropy);
          const grad = await run(e, dlogits);
          expect(grad).toAllClose(ref.dlogits);
          for (let n = 1; n < N; n += 4) expect(grad.subarray(n * V, (n + 1) * V).every((g) => g === 0), `masked row ${n} has zero gradient`).toBe(true);
        });
      }
    }

    it(`evaluates without a gradient (${variant})`, async () => {
      const [N, V] = [7, 517];
      const r = rng(3);
      const logits = randArray(r, N * V, 3);
      const targets = Int32Array.from({ length: N }, () => randInt(r, 0, V - 1));
      const weights = new Float32Array(N).fill(1);
      const ref = crossEntropyRef(logits, targets, weights, N, V, 1);
      const lt = d.tensor(logits, [N, V]);
      const out = { loss: d.poisoned([N]), logprob: d.poisoned([N]), entropy: d.poisoned([N]) };
      await crossEntropy(e, lt, d.tensor(targets, [N]), d.tensor(weights, [N]), out, { variant });
      expect(await run(e, out.loss)).toAllClose(ref.loss);
      expect(await run(e, out.entropy)).toAllClose(ref.entropy);
      expect(Array.from(await run(e, lt))).toEqual(Array.from(logits)); // logits untouched
    });
  }

  it('masked rows give zero loss and gradient even with non-finite logits; bad targets give NaN unless masked', async () => {
    const V = 10;
    const logits = randArray(rng(8), 4 * V);
    logits[3] = NaN; // row 0: masked, NaN logit
    logits[V + 2] = Infinity; // row 1: masked, infinite logit
    const targets = Int32Array.from([2, 3, -1, 10]); // rows 2 and 3: targets outside [0, V)
    const weights = Float32Array.from([0, 0, 0, 1]);
    const out = { loss: d.poisoned([4]), logprob: d.poisoned([4]), entropy: d.poisoned([4]), dlogits: d.poisoned([4, V]) };
    await crossEntropy(e, d.tensor(logits, [4, V]), d.tensor(targets, [4]), d.tensor(weights, [4]), out);
    const loss = Array.from(await run(e, out.loss));
    expect(loss.slice(0, 3)).toEqual([0, 0, 0]);
    expect(loss[3]).toBeNaN();
    expect(Array.from((await run(e, out.dlogits)).subarray(0, 3 * V))).toEqual(new Array(3 * V).fill(0));
  });

  for (const variant of rowVariants(e)) {
    it(`-inf logits (a masked vocabulary) count as probability 0 (${variant})`, async () => {
      const [N, V] = [3, 300];
      const r = rng(12);
      const logits = randArray(r, N * V, 3);
      for (let i = 0; i < N * V; i += 3) logits[i] = -Infinity;
      const targets = Int32Array.from([1, 2, 4]);
      const weights = Float32Array.from([1, 0.5, -1]);
      const ref = crossEntropyRef(logits, targets, weights, N, V, 1);
      const out = { loss: d.poisoned([N]), logprob: d.poisoned([N]), entropy: d.poisoned([N]), dlogits: d.poisoned([N, V]) };
      await crossEntropy(e, d.tensor(logits, [N, V]), d.tensor(targets, [N]), d.tensor(weights, [N]), out, { variant });
      expect(await run(e, out.loss)).toAllClose(ref.loss);
      expect(await run(e, out.entropy)).toAllClose(ref.entropy);
      expect(await run(e, out.dlogits)).toAllClose(ref.dlogits);
    });
  }

  it('dlogits agree with finite differences of the loss', async () => {
    const [N, V] = [3, 5];
    const r = rng(17);
    const logits = Float64Array.from(randArray(r, N * V, 2));
    const targets = Int32Array.from([4, 0, 2]);
    const weights = Float32Array.from([1, -0.7, 2]);
    const dscale = 0.5;
    // L = dscale * sum_n loss_n, so dL/dlogits = dlogits
    const L = (x: Float64Array) => dscale * crossEntropyRef(x, targets, weights, N, V, dscale).loss.reduce((a, b) => a + b, 0);
    const out = { loss: d.poisoned([N]), logprob: d.poisoned([N]), entropy: d.poisoned([N]), dlogits: d.poisoned([N, V]) };
    await crossEntropy(e, d.tensor(new Float32Array(logits), [N, V]), d.tensor(targets, [N]), d.tensor(weights, [N]), out, { dscale });
    expect(await run(e, out.dlogits)).toAllClose(Array.from(logits, (_, i) => finiteDiff(L, logits, i)));
  });
});
