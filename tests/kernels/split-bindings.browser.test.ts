// Split bindings: with the engine's binding limit forced down to a few KiB, every launcher that
// splits (adamw, gradNorm, embedding, cross-entropy, gatherRows) gives the unsplit result and the
// float64 reference on shapes that are not multiples of anything, and what cannot be split fails
// with a BindingTooLargeError naming the tensor and the limit. The recorder refuses any binding
// above the limit, so a passing split run proves no oversized binding was made.
import { afterEach, describe, expect, it } from 'vitest';
import { Engine } from '../../src/gpu/engine';
import { BindingTooLargeError } from '../../src/gpu/errors';
import { type Tensor, byteLength } from '../../src/gpu/tensor';
import { adamw, gradNorm } from '../../src/kernels/adamw';
import { crossEntropy } from '../../src/kernels/cross-entropy';
import { add } from '../../src/kernels/elementwise';
import { buildTokenIndex, embeddingBackward, embeddingForward, tokenIndexBuffers, uploadTokenIndex } from '../../src/kernels/embedding';
import { gatherRows } from '../../src/kernels/gather';
import { describeMatmul, matmul } from '../../src/kernels/matmul';
import { chunkItems } from '../../src/kernels/split';
import { testEngine } from '../helpers/gpu';
import { randArray, randInt, rng } from '../helpers/random';
import { type AdamWState, adamwStepRef, gradNormRef } from '../reference/adamw';
import { crossEntropyRef } from '../reference/cross-entropy';
import { embeddingBackwardRef, embeddingForwardRef } from '../reference/embedding';
import { matmulRef } from '../reference/matmul';
import { GpuData, rowVariants, run } from './gpu-data';

const e = await testEngine();
const d = new GpuData(e);
afterEach(() => {
  e.bindingLimit = null;
  d.free();
});

/** Runs `record` with the binding limit forced to `bytes`, then restores the device's; returns the dispatches it recorded. */
async function limited(bytes: number, record: () => Promise<void>): Promise<number> {
  e.rec.submit();
  e.bindingLimit = bytes;
  try {
    await record();
    return e.rec.dispatches;
  } finally {
    e.bindingLimit = null;
  }
}

async function unlimited(record: () => Promise<void>): Promise<number> {
  e.rec.submit();
  await record();
  return e.rec.dispatches;
}

describe(`split bindings on ${e.gpu.adapter.name}`, () => {
  it(`reports the adapter's limits (maxStorageBufferBindingSize ${e.gpu.limits.maxStorageBufferBindingSize}, maxBufferSize ${e.gpu.limits.maxBufferSize})`, () => {
    console.log(
      `${e.gpu.adapter.name}: maxStorageBufferBindingSize ${e.gpu.limits.maxStorageBufferBindingSize}, maxBufferSize ${e.gpu.limits.maxBufferSize}, ` +
        `minStorageBufferOffsetAlignment ${e.gpu.limits.minStorageBufferOffsetAlignment}`,
    );
    expect(e.bindingLimit).toBe(e.gpu.limits.maxStorageBufferBindingSize);
    expect(() => (e.bindingLimit = 100)).toThrow('bindingLimit must be an integer number of bytes in [256,');
    expect(() => (e.bindingLimit = e.gpu.limits.maxStorageBufferBindingSize + 4)).toThrow(RangeError);
  });

  it('Engine.create takes a binding limit', async () => {
    const forced = await Engine.create({ bindingLimit: 4096 });
    expect(forced.bindingLimit).toBe(4096);
    forced.bindingLimit = null;
    expect(forced.bindingLimit).toBe(forced.gpu.limits.maxStorageBufferBindingSize);
    forced.gpu.destroy();
  });

  it('chunkItems: aligned starts, every chunk within the limit, all items covered; a clear error when nothing fits', () => {
    e.bindingLimit = 4096;
    for (const [n, itemBytes, unit] of [[1000, 4, 1], [301, 80, 1], [1000, 12, 1], [300, 16, 64]] as const) {
      const chunks = chunkItems(e, n, itemBytes, 'test', { unit });
      let next = 0;
      for (const c of chunks) {
        expect(c.start).toBe(next);
        expect((c.start * itemBytes) % 256).toBe(0);
        expect(c.start % unit).toBe(0);
        expect(c.count * itemBytes).toBeLessThanOrEqual(4096);
        next += c.count;
      }
      expect(next).toBe(n);
    }
    expect(chunkItems(e, 1024, 4, 'fits')).toEqual([{ start: 0, count: 1024 }]);
    // 388-byte rows align only every 64 rows (24832 bytes): more than 4096
    expect(() => chunkItems(e, 65, 388, 'logits of V = 97')).toThrow(BindingTooLargeError);
    expect(() => chunkItems(e, 65, 388, 'logits of V = 97')).toThrow(/logits of V = 97 .*64 items of 388 bytes.* needs 24832 bytes .*limit of 4096 bytes/);
  });

  it('an unsplittable binding above the limit is a BindingTooLargeError naming the tensor, not a WebGPU validation error', async () => {
    const n = 2000;
    const a = d.tensor(randArray(rng(1), n), [n]);
    const out = d.poisoned([n]);
    const err = await limited(4096, () => add(e, { ...a, label: 'my input' }, a, out)).then(
      () => null,
      (x: unknown) => x,
    );
    expect(err).toBeInstanceOf(BindingTooLargeError);
    expect((err as Error).message).toMatch(/elementwise_add.*: binding 1, my input \[2000\] f32, needs 8000 bytes in one storage binding.*limit of 4096 bytes/);
  });

  for (const variant of rowVariants(e)) {
    it(`adamw and gradNorm over windows of a flat buffer equal the unsplit step and the float64 reference (${variant})`, async () => {
      const P = 5003;
      const decayRanges: [number, number][] = [[0, 1000], [1500, 3000], [3100, 3500], [4000, 4001]];
      const decayed = (i: number) => decayRanges.some(([s, t]) => i >= s && i < t);
      const hp = { lr: 1e-2, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1 };
      const r = rng(31);
      const p0 = randArray(r, P);
      const ref: AdamWState = { params: Float64Array.from(p0), m: new Float64Array(P), v: new Float64Array(P) };
      const state = () => ({ params: d.tensor(p0, [P], 256), m: d.tensor(new Float32Array(P), [P]), v: d.tensor(new Float32Array(P), [P], 512), norm: d.poisoned([1]), scale: d.poisoned([1]) });
      const [whole, split] = [state(), state()];
      for (let step = 1; step <= 3; step++) {
        const g = randArray(r, P, step === 2 ? 2.5 : 0.4);
        const gt = d.tensor(g, [P]);
        const opt = (s: typeof whole) => async () => {
          await gradNorm(e, gt, s.norm, s.scale, { maxNorm: 20, variant });
          await adamw(e, s.params, gt, s.m, s.v, s.scale, { ...hp, step, decayRanges });
        };
        const nWhole = await unlimited(opt(whole));
        const nSplit = await limited(4096, opt(split));
        expect(nSplit, 'the split step ran more dispatches').toBeGreaterThan(nWhole);
        const want = gradNormRef(g, 20);
        adamwStepRef(ref, g, want.scale, step, hp, decayed);
        expect(await run(e, split.norm)).toAllClose(await run(e, whole.norm));
        expect(await run(e, split.norm)).toAllClose([want.norm]);
        expect(await run(e, split.scale)).toAllClose([want.scale]);
        for (const k of ['params', 'm', 'v'] as const) {
          expect(await run(e, split[k])).toAllClose(await run(e, whole[k]));
          expect(await run(e, split[k])).toAllClose(ref[k]);
        }
      }
    });

    it(`gradNorm over 300,007 elements in 16 KiB windows matches the reference (${variant})`, async () => {
      const P = 300_007;
      const g = randArray(rng(5), P, 1e-2);
      const norm = d.poisoned([1]);
      const scale = d.poisoned([1]);
      await limited(16384, () => gradNorm(e, d.tensor(g, [P]), norm, scale, { maxNorm: 1, variant }));
      const want = gradNormRef(g, 1);
      expect(await run(e, norm)).toAllClose([want.norm], { tol: 1e-6 });
      expect(await run(e, scale)).toAllClose([want.scale], { tol: 1e-6 });
    });

    for (const mode of ['none', 'separate', 'inplace'] as const) {
      it(`crossEntropy over blocks of rows (N=150, V=123, ${mode}) equals the unsplit kernel and the reference (${variant})`, async () => {
        const [N, V] = [150, 123];
        const r = rng(77);
        const logits = randArray(r, N * V, 4);
        const targets = Int32Array.from({ length: N }, (_, i) => (i === 5 ? V : i === 9 ? -1 : randInt(r, 0, V - 1)));
        const weights = Float32Array.from({ length: N }, (_, i) => (i === 9 ? 0 : r() < 0.2 ? 0 : r() * 2 - 0.5));
        const dscale = 0.37;
        const outs = () => {
          const lg = d.tensor(logits, [N, V], 256);
          return { lg, loss: d.poisoned([N]), logprob: d.poisoned([N]), entropy: d.poisoned([N]), dl: mode === 'separate' ? d.poisoned([N, V]) : null };
        };
        const [whole, split] = [outs(), outs()];
        const launch = (o: typeof whole) => () =>
          crossEntropy(e, o.lg, d.tensor(targets, [N]), d.tensor(weights, [N]), {
            loss: o.loss, logprob: o.logprob, entropy: o.entropy, dlogits: mode === 'none' ? undefined : mode === 'inplace' ? 'inplace' : o.dl!,
          }, { dscale, variant });
        await unlimited(launch(whole));
        const nSplit = await limited(32768, launch(split)); // 64-row blocks of 492-byte rows: 3 blocks
        expect(nSplit).toBe(3);
        const ref = crossEntropyRef(logits, targets, weights, N, V, dscale);
        for (const k of ['loss', 'logprob', 'entropy'] as const) {
          const got = await run(e, split[k]);
          expect(got).toAllClose(await run(e, whole[k]));
          expect(got).toAllClose(ref[k]);
        }
        if (mode !== 'none') {
          const got = await run(e, mode === 'separate' ? split.dl! : split.lg);
          expect(got).toAllClose(await run(e, mode === 'separate' ? whole.dl! : whole.lg));
          expect(got).toAllClose(ref.dlogits);
        }
      });
    }
  }

  it('gatherRows over blocks of rows equals the unsplit gather, NaN for bad indices', async () => {
    const [R, C, B] = [150, 123, 9];
    const r = rng(8);
    const x = randArray(r, R * C);
    const idx = Int32Array.from({ length: B }, (_, b) => (b === 2 ? -1 : b === 6 ? R : randInt(r, 0, R - 1)));
    idx[0] = R - 1;
    const xt = d.tensor(x, [R, C]);
    const it = d.tensor(idx, [B]);
    const [whole, split] = [d.poisoned([B, C]), d.poisoned([B, C], 'f32', 256)];
    await unlimited(() => gatherRows(e, xt, it, whole));
    expect(await limited(32768, () => gatherRows(e, xt, it, split))).toBe(3);
    const want = new Float64Array(B * C);
    for (let b = 0; b < B; b++) for (let c = 0; c < C; c++) want[b * C + c] = idx[b] >= 0 && idx[b] < R ? x[idx[b] * C + c] : NaN;
    expect(await run(e, split)).toAllClose(want);
    expect(await run(e, split)).toAllClose(await run(e, whole));
  });

  for (const learnedPos of [true, false]) {
    it(`embedding forward over chunks of the table (V=301, C=20, ${learnedPos ? 'with' : 'without'} wpe) equals the unsplit one and the reference`, async () => {
      const [B, T, C, V] = [2, 7, 20, 301];
      const r = rng(3);
      const tokens = Int32Array.from({ length: B * T }, (_, i) => (i === 4 ? V : i === 8 ? -1 : randInt(r, 0, V - 1)));
      tokens[0] = V - 1;
      const wte = randArray(r, V * C);
      const maxT = T + 3;
      const wpe = randArray(r, maxT * C);
      const tt = d.tensor(tokens, [B, T]);
      const wteT = d.tensor(wte, [V, C], 256);
      const wpeT = learnedPos ? d.tensor(wpe, [maxT, C]) : null;
      const [whole, split] = [d.poisoned([B, T, C]), d.poisoned([B, T, C])];
      await unlimited(() => embeddingForward(e, tt, wteT, wpeT, whole, { posOffset: 2 }));
      // 80-byte rows in chunks of 48 (a multiple of 16 rows, for 256-byte alignment): 7 chunks
      expect(await limited(4096, () => embeddingForward(e, tt, wteT, wpeT, split, { posOffset: 2 }))).toBe(7);
      const want = embeddingForwardRef(tokens, wte, learnedPos ? wpe : null, B, T, C, 2);
      expect(await run(e, split)).toAllClose(want);
      expect(await run(e, split)).toAllClose(await run(e, whole));
    });
  }

  it('embedding backward over chunks of dwte equals the unsplit one and the reference, overwriting and accumulating', async () => {
    const [B, T, C, V] = [2, 7, 20, 301];
    const r = rng(4);
    const tokens = Int32Array.from({ length: B * T }, () => randInt(r, 0, V - 1));
    tokens[0] = 0;
    tokens[1] = V - 1;
    const dout = randArray(r, B * T * C);
    const ref = embeddingBackwardRef(dout, tokens, V, T, B, T, C);
    const index = uploadTokenIndex(e.gpu, buildTokenIndex(tokens, V), tokenIndexBuffers(e, B * T));
    const doutT = d.tensor(dout, [B, T, C]);
    const prev = randArray(r, V * C);
    const check = async (dwte: Tensor, accumulate: boolean, want: ArrayLike<number>) => {
      const unsplit = d.tensor(await run(e, dwte), [V, C]);
      await unlimited(() => embeddingBackward(e, doutT, index, unsplit, null, { accumulate }));
      expect(await limited(4096, () => embeddingBackward(e, doutT, index, dwte, null, { accumulate }))).toBe(7);
      expect(await run(e, dwte)).toAllClose(want);
      expect(await run(e, dwte)).toAllClose(await run(e, unsplit));
    };
    await check(d.poisoned([V, C]), false, ref.dwte);
    await check(d.tensor(prev, [V, C], 256), true, Float64Array.from(prev, (p, i) => p + ref.dwte[i]));
    for (const t of [index.ids, index.starts, index.positions]) e.pool.release(t);
  });

  it('split-K matmul keeps its partial sums within the limit: fewer slices', async () => {
    const [M, N, K] = [65, 65, 128];
    const r = rng(12);
    const a = randArray(r, M * K);
    const b = randArray(r, K * N);
    const limit = M * K * 4; // a and b fit exactly; c (16900 bytes) fits once, two slices of partial sums do not
    const unlimitedSlices = describeMatmul(e, { M, N, K }, 'splitk');
    e.bindingLimit = limit;
    const limitedSlices = describeMatmul(e, { M, N, K }, 'splitk');
    e.bindingLimit = null;
    expect(unlimitedSlices).toMatch(/^splitk x2 /);
    expect(limitedSlices).toMatch(/^splitk x1 /);
    const c = d.poisoned([M, N]);
    await limited(limit, () => matmul(e, d.tensor(a, [M, K]), d.tensor(b, [K, N]), c, { variant: 'splitk' }));
    expect(await run(e, c)).toAllClose(matmulRef(a, b, M, N, K));
  });

  it('keeps tensors that fit in one dispatch: the unsplit launch is unchanged', async () => {
    const [N, V] = [10, 50];
    const logits = d.tensor(randArray(rng(9), N * V), [N, V]);
    expect(byteLength(logits)).toBeLessThan(4096);
    const n = await limited(4096, () =>
      crossEntropy(e, logits, d.tensor(new Int32Array(N), [N]), d.tensor(new Float32Array(N).fill(1), [N]), { loss: d.poisoned([N]), logprob: d.poisoned([N]), entropy: d.poisoned([N]) }),
    );
    expect(n).toBe(1);
  });
});
