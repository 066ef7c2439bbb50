import { afterEach, describe, expect, it } from 'vitest';
import { subview } from '../../src/gpu/tensor';
import { sample } from '../../src/kernels/sample';
import { testEngine } from '../helpers/gpu';
import { randArray, rng } from '../helpers/random';
import { type SampleConfig, keptDistribution, sampleRef } from '../reference/sample';
import type { RowVariant } from '../../src/kernels/row-reduce';
import { GpuData, rowVariants, run, runI32 } from './gpu-data';

const e = await testEngine();
const d = new GpuData(e);
afterEach(() => d.free());

const argmax = (a: ArrayLike<number>, from: number, to: number) => {
  let best = from;
  for (let i = from; i < to; i++) if (a[i] > a[best]) best = i;
  return best - from;
};

/** log softmax(row / temperature) at index t, in float64. */
const logSoftmaxAt = (row: ArrayLike<number>, temperature: number, t: number) => {
  const z = Array.from(row, (x) => x / temperature);
  const m = Math.max(...z);
  return z[t] - m - Math.log(z.reduce((s, x) => s + Math.exp(x - m), 0));
};

const FREQ_ROW = Float32Array.from([1.0, 0.2, -0.5, 2.0, 0.9, -1.5, 0.0]);
const FREQ_CONFIGS: SampleConfig[] = [
  { temperature: 0.8, topK: 0, topP: 1 },
  { temperature: 1.5, topK: 3, topP: 1 },
  { temperature: 1, topK: 0, topP: 0.75 },
  { temperature: 2, topK: 5, topP: 0.9 },
];

/** Tokens drawn from N copies of FREQ_ROW (row n uses its own random stream). */
async function freqDraws(variant: RowVariant, N: number, c: SampleConfig): Promise<number[]> {
  const V = FREQ_ROW.length;
  const x = new Float32Array(N * V);
  for (let n = 0; n < N; n++) x.set(FREQ_ROW, n * V);
  const tokens = d.poisoned([N], 'i32');
  await sample(e, d.tensor(x, [N, V]), tokens, d.poisoned([N]), { ...c, seed: 99, step: 1, variant });
  return Array.from(await runI32(e, tokens));
}

describe(`sample on ${e.gpu.adapter.name}`, () => {
  for (const variant of rowVariants(e)) {
    const [B, V] = [4, 32000];
    const logits = randArray(rng(1), B * V, 8);
    logits[V + 77] = logits[V + 9000] = 20; // row 1: two equal maxima; greedy takes the first, sampling either

    for (const [what, opts] of [
      ['temperature 0', { temperature: 0, topK: 5, topP: 0.5 }],
      ['top-k = 1', { temperature: 1.5, topK: 1 }],
      ['a tiny top-p', { temperature: 0.7, topP: 1e-6 }],
    ] as const) {
      it(`${what} picks the argmax (V=${V}, ${variant})`, async () => {
        const tokens = d.poisoned([B], 'i32');
        const logprob = d.poisoned([B]);
        await sample(e, d.tensor(logits, [B, V]), tokens, logprob, { ...opts, seed: 3, step: 4, variant });
        const want = Array.from({ length: B }, (_, b) => argmax(logits, b * V, (b + 1) * V));
        expect(want[1]).toBe(77);
        const got = Array.from(await runI32(e, tokens));
        if (opts.temperature > 0 && got[1] === 9000) want[1] = 9000; // top-k/top-p keep both tied maxima
        expect(got).toEqual(want);
        // log-prob of the argmax under softmax(logits / temperature), temperature 1 when greedy
        expect(await run(e, logprob)).toAllClose(want.map((t, b) => logSoftmaxAt(logits.subarray(b * V, (b + 1) * V), opts.temperature || 1, t)));
      });
    }

    const configs: SampleConfig[] = [
      { temperature: 1, topK: 0, topP: 1 },
      { temperature: 0.7, topK: 40, topP: 1 },
      { temperature: 1.3, topK: 0, topP: 0.9 },
      { temperature: 0.9, topK: 100, topP: 0.8 },
    ];
    for (const [Vs, Bs] of [[259, 7], [517, 5], [32000, 3]]) {
      for (const c of configs) {
        it(`draws the reference token (V=${Vs}, T=${c.temperature}, k=${c.topK}, p=${c.topP}, ${variant})`, async () => {
          const x = randArray(rng(Vs + c.topK), Bs * Vs, 4);
          const tokens = d.poisoned([Bs], 'i32');
          const logprob = d.poisoned([Bs]);
          await sample(e, d.tensor(x, [Bs, Vs], 256), tokens, logprob, { ...c, seed: 1234, step: 56, variant });
          const got = await runI32(e, tokens);
          const ref = Array.from({ length: Bs }, (_, b) => sampleRef(x.subarray(b * Vs, (b + 1) * Vs), c, 1234, 56, b));
          let compared = 0;
          for (let b = 0; b < Bs; b++) {
            if (ref[b].margin < 1e-3) continue; // f32 vs f64 could order a near-tie differently
            expect(got[b], `row ${b}`).toBe(ref[b].token);
            compared++;
          }
          expect(compared).toBeGreaterThan(Bs / 2);
          expect(await run(e, logprob)).toAllClose(Array.from(got, (t, b) => logSoftmaxAt(x.subarray(b * Vs, (b + 1) * Vs), c.temperature, t)));
        });
      }
    }

    if (variant !== 'serial') {
      it(`draws the same tokens as the serial variant (frequency-test rows, ${variant})`, async () => {
        const N = 300;
        for (const c of FREQ_CONFIGS) expect(await freqDraws(variant, N, c)).toEqual(await freqDraws('serial', N, c));
      });
    }
  }

  it('sampling frequencies match the truncated softmax', async () => {
    const N = 4000; // N identical rows: N independent draws in one dispatch
    for (const c of FREQ_CONFIGS) {
      const counts = new Array(FREQ_ROW.length).fill(0);
      for (const t of await freqDraws('serial', N, c)) counts[t]++;
      const { probs } = keptDistribution(FREQ_ROW, c);
      let chi2 = 0;
      for (let v = 0; v < FREQ_ROW.length; v++) {
        const p = probs.get(v) ?? 0;
        if (p === 0) expect(counts[v], `token ${v} is outside the kept set (${JSON.stringify(c)})`).toBe(0);
        else chi2 += (counts[v] - N * p) ** 2 / (N * p);
      }
      // chi-square with (kept - 1) <= 6 degrees of freedom: P(chi2 > 40) < 1e-6 for a correct sampler, while
      // e.g. ignoring the temperature (1 instead of 0.8) gives an expected chi2 of about 180 at N = 4000
      expect(chi2, `chi2 for ${JSON.stringify(c)}: counts ${counts}`).toBeLessThan(40);
    }
  });

  it('the same seed and step give the same draw; another step gives another', async () => {
    const [B, V] = [64, 50];
    const xt = d.tensor(new Float32Array(B * V), [B, V]); // uniform distribution: every draw is random
    const draw = async (step: number) => {
      const tokens = d.poisoned([B], 'i32');
      await sample(e, xt, tokens, d.poisoned([B]), { seed: 7, step });
      return Array.from(await runI32(e, tokens));
    };
    const a = await draw(1);
    expect(await draw(1)).toEqual(a);
    const b = await draw(2);
    expect(b.filter((t, i) => t !== a[i]).length).toBeGreaterThan(B / 2);
    expect(new Set(a).size).toBeGreaterThan(20); // rows differ too
  });

  it('a batch sampled in parts with rowBase draws what the whole batch draws', async () => {
    const [B, V] = [24, 64]; // rows of 256 bytes: every part starts at a bindable offset
    const x = d.tensor(new Float32Array(B * V), [B, V]); // uniform distribution: every draw is random
    // Rows start..start+rows of x, keyed as rows of the whole batch (rowBase = start) or not.
    const draw = async (start: number, rows: number, keyed = true) => {
      const tokens = d.poisoned([rows], 'i32');
      await sample(e, subview(x, start * V, [rows, V]), tokens, d.poisoned([rows]), { seed: 11, step: 3, temperature: 1, rowBase: keyed ? start : undefined });
      return Array.from(await runI32(e, tokens));
    };
    const whole = await draw(0, B);
    expect(new Set(whole).size).toBeGreaterThan(10);
    expect([...(await draw(0, 8)), ...(await draw(8, 10)), ...(await draw(18, 6))]).toEqual(whole);
    // Without rowBase, a part draws as rows 0.. of a batch of its own: not what the whole batch drew.
    const unkeyed = await draw(8, 10, false);
    expect(unkeyed.filter((t, i) => t !== whole[8 + i]).length).toBeGreaterThan(5);
    await expect(sample(e, x, d.poisoned([B], 'i32'), d.poisoned([B]), { rowBase: -1 })).rejects.toThrow(/rowBase must be an integer/);
  });
});
