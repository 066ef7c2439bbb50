import { afterEach, describe, expect, it } from 'vitest';
import { layernormBackward, layernormForward } from '../../src/kernels/layernorm';
import { testEngine } from '../helpers/gpu';
import { randArray, rng } from '../helpers/random';
import { layernormBackwardRef, layernormForwardRef } from '../reference/layernorm';
import { GpuData, finiteDiff, rowVariants, run } from './gpu-data';

const e = await testEngine();
const d = new GpuData(e);
afterEach(() => d.free());

const shapes: [number, number][] = [[1, 37], [5, 100], [133, 771], [70, 1], [3, 2049]];

describe(`layernorm on ${e.gpu.adapter.name}`, () => {
  for (const variant of rowVariants(e)) {
    for (const [N, C] of shapes) {
      it(`forward (N=${N}, C=${C}, ${variant}) matches the float64 reference`, async () => {
        const r = rng(N * 1000 + C);
        const x = randArray(r, N * C, 2).map((v) => v + 3); // an offset mean exercises the two-pass variance
        const w = randArray(r, C);
        const b = randArray(r, C);
        const out = d.poisoned([N, C]);
        const mean = d.poisoned([N]);
        const rstd = d.poisoned([N]);
        await layernormForward(e, d.tensor(x, [N, C]), d.tensor(w, [C]), d.tensor(b, [C]), out, mean, rstd, { eps: 1e-5, variant });
        const ref = layernormForwardRef(x, w, b, N, C, 1e-5);
        expect(await run(e, out)).toAllClose(ref.out);
        expect(await run(e, mean)).toAllClose(ref.mean);
        expect(await run(e, rstd)).toAllClose(ref.rstd);
      });

      it(`backward (N=${N}, C=${C}, ${variant}) matches the float64 reference`, async () => {
        const r = rng(N * 7 + C);
        const x = randArray(r, N * C, 2);
        const w = randArray(r, C);
        const dout = randArray(r, N * C);
        const ln = layernormForwardRef(x, w, new Float64Array(C), N, C, 1e-5);
        const fwd = { mean: new Float32Array(ln.mean), rstd: new Float32Array(ln.rstd) }; // the saved f32 statistics, for both sides
        const ref = layernormBackwardRef(dout, x, w, fwd.mean, fwd.rstd, N, C);
        const dinp = d.poisoned([N, C]);
        const dw = d.poisoned([C]);
        const db = d.poisoned([C]);
        await layernormBackward(
          e, d.tensor(dout, [N, C]), d.tensor(x, [N, C]), d.tensor(w, [C]), d.tensor(fwd.mean, [N]), d.tensor(fwd.rstd, [N]),
          dinp, dw, db, { variant },
        );
        expect(await run(e, dinp)).toAllClose(ref.dinp);
        expect(await run(e, dw)).toAllClose(ref.dweight);
        expect(await run(e, db)).toAllClose(ref.dbias);
      });
    }
  }

  it('backward accumulates into dinp, dweight and dbias when asked', async () => {
    const [N, C] = [4300, 5]; // N > 64*64: the column sum of the weight partials takes its second pass
    const r = rng(99);
    const x = randArray(r, N * C);
    const w = randArray(r, C);
    const dout = randArray(r, N * C);
    const prev = { dinp: randArray(r, N * C), dw: randArray(r, C), db: randArray(r, C) };
    const fwd = layernormForwardRef(x, w, new Float64Array(C), N, C, 1e-5);
    const ref = layernormBackwardRef(dout, x, w, fwd.mean, fwd.rstd, N, C);
    const dinp = d.tensor(prev.dinp, [N, C]);
    const dw = d.tensor(prev.dw, [C], 256);
    const db = d.tensor(prev.db, [C], 512);
    await layernormBackward(
      e, d.tensor(dout, [N, C]), d.tensor(x, [N, C], 256), d.tensor(w, [C]), d.tensor(new Float32Array(fwd.mean), [N]), d.tensor(new Float32Array(fwd.rstd), [N]),
      dinp, dw, db, { accumulate: true, accumulateInput: true },
    );
    expect(await run(e, dinp)).toAllClose(ref.dinp.map((v, i) => v + prev.dinp[i]));
    expect(await run(e, dw)).toAllClose(ref.dweight.map((v, i) => v + prev.dw[i]));
    expect(await run(e, db)).toAllClose(ref.dbias.map((v, i) => v + prev.db[i]));
  });

  it('backward agrees with finite differences of the forward', async () => {
    const [N, C] = [3, 6];
    const r = rng(5);
    const x = Float64Array.from(randArray(r, N * C));
    const w = Float64Array.from(randArray(r, C));
    const b = Float64Array.from(randArray(r, C));
    const g = Float64Array.from(randArray(r, N * C)); // L = sum(out * g), so dout = g
    const loss = (xx: Float64Array, ww: Float64Array, bb: Float64Array) => layernormForwardRef(xx, ww, bb, N, C, 1e-5).out.reduce((s, o, i) => s + o * g[i], 0);
    const fwd = layernormForwardRef(x, w, b, N, C, 1e-5);
    const dinp = d.poisoned([N, C]);
    const dw = d.poisoned([C]);
    const db = d.poisoned([C]);
    await layernormBackward(
      e, d.tensor(new Float32Array(g), [N, C]), d.tensor(new Float32Array(x), [N, C]), d.tensor(new Float32Array(w), [C]),
      d.tensor(new Float32Array(fwd.mean), [N]), d.tensor(new Float32Array(fwd.rstd), [N]), dinp, dw, db,
    );
    const fdX = Array.from(x, (_, i) => finiteDiff((xx) => loss(xx, w, b), x, i));
    const fdW = Array.from(w, (_, i) => finiteDiff((ww) => loss(x, ww, b), w, i));
    const fdB = Array.from(b, (_, i) => finiteDiff((bb) => loss(x, w, bb), b, i));
    expect(await run(e, dinp)).toAllClose(fdX);
    expect(await run(e, dw)).toAllClose(fdW);
    expect(await run(e, db)).toAllClose(fdB);
  });

  it('rejects mismatched shapes with a readable error', async () => {
    const x = d.tensor(new Float32Array(12), [3, 4]);
    await expect(layernormForward(e, x, d.tensor(new Float32Array(3), [3]), d.tensor(new Float32Array(4), [4]), d.poisoned([3, 4]), d.poisoned([3]), d.poisoned([3])))
      .rejects.toThrow('layernormForward weight: expected shape [4], got [3]');
  });
});
