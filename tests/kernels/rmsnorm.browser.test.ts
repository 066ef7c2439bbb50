import { afterEach, describe, expect, it } from 'vitest';
import { rmsnormBackward, rmsnormForward } from '../../src/kernels/rmsnorm';
import { testEngine } from '../helpers/gpu';
import { randArray, rng } from '../helpers/random';
import { rmsnormBackwardRef, rmsnormForwardRef } from '../reference/rmsnorm';
import { GpuData, finiteDiff, rowVariants, run } from './gpu-data';

const e = await testEngine();
const d = new GpuData(e);
afterEach(() => d.free());

// C = 1 is left out: there dinp = w*dout*rstd*(1 - norm^2) with norm^2 = x^2/(x^2+eps), a cancellation no f32 kernel survives
const shapes: [number, number][] = [[1, 37], [5, 100], [133, 771], [70, 2], [3, 2049]];

describe(`rmsnorm on ${e.gpu.adapter.name}`, () => {
  for (const variant of rowVariants(e)) {
    for (const [N, C] of shapes) {
      it(`forward (N=${N}, C=${C}, ${variant}) matches the float64 reference`, async () => {
        const r = rng(N * 1000 + C);
        const x = randArray(r, N * C, 2);
        const w = randArray(r, C);
        const out = d.poisoned([N, C]);
        const rstd = d.poisoned([N]);
        await rmsnormForward(e, d.tensor(x, [N, C]), d.tensor(w, [C]), out, rstd, { eps: 1e-6, variant });
        const ref = rmsnormForwardRef(x, w, N, C, 1e-6);
        expect(await run(e, out)).toAllClose(ref.out);
        expect(await run(e, rstd)).toAllClose(ref.rstd);
      });

      it(`backward (N=${N}, C=${C}, ${variant}) matches the float64 reference`, async () => {
        const r = rng(N * 7 + C);
        const x = randArray(r, N * C, 2);
        const w = randArray(r, C);
        const dout = randArray(r, N * C);
        const rstd = new Float32Array(rmsnormForwardRef(x, w, N, C, 1e-6).rstd);
        const ref = rmsnormBackwardRef(dout, x, w, rstd, N, C);
        const dinp = d.poisoned([N, C]);
        const dw = d.poisoned([C]);
        await rmsnormBackward(e, d.tensor(dout, [N, C]), d.tensor(x, [N, C]), d.tensor(w, [C]), d.tensor(rstd, [N]), dinp, dw, { variant });
        expect(await run(e, dinp)).toAllClose(ref.dinp);
        expect(await run(e, dw)).toAllClose(ref.dweight);
      });
    }
  }

  it('takes (B,T,C) views at offsets and accumulates into dinp and dweight when asked', async () => {
    const [B, T, C] = [3, 1500, 7]; // N = 4500 > 64*64 rows: the column sum takes its second pass
    const N = B * T;
    const r = rng(42);
    const x = randArray(r, N * C);
    const w = randArray(r, C);
    const dout = randArray(r, N * C);
    const prev = { dinp: randArray(r, N * C), dw: randArray(r, C) };
    const { rstd } = rmsnormForwardRef(x, w, N, C, 1e-5);
    const ref = rmsnormBackwardRef(dout, x, w, rstd, N, C);
    const dinp = d.tensor(prev.dinp, [B, T, C], 512);
    const dw = d.tensor(prev.dw, [C], 256);
    await rmsnormBackward(e, d.tensor(dout, [B, T, C], 256), d.tensor(x, [B, T, C]), d.tensor(w, [C]), d.tensor(new Float32Array(rstd), [N], 768), dinp, dw, {
      accumulate: true,
      accumulateInput: true,
    });
    expect(await run(e, dinp)).toAllClose(ref.dinp.map((v, i) => v + prev.dinp[i]));
    expect(await run(e, dw)).toAllClose(ref.dweight.map((v, i) => v + prev.dw[i]));
  });

  it('backward agrees with finite differences of the forward', async () => {
    const [N, C] = [3, 6];
    const r = rng(5);
    const x = Float64Array.from(randArray(r, N * C));
    const w = Float64Array.from(randArray(r, C));
    const g = Float64Array.from(randArray(r, N * C)); // L = sum(out * g), so dout = g
    const loss = (xx: Float64Array, ww: Float64Array) => rmsnormForwardRef(xx, ww, N, C, 1e-5).out.reduce((s, o, i) => s + o * g[i], 0);
    const { rstd } = rmsnormForwardRef(x, w, N, C, 1e-5);
    const dinp = d.poisoned([N, C]);
    const dw = d.poisoned([C]);
    await rmsnormBackward(e, d.tensor(new Float32Array(g), [N, C]), d.tensor(new Float32Array(x), [N, C]), d.tensor(new Float32Array(w), [C]), d.tensor(new Float32Array(rstd), [N]), dinp, dw);
    expect(await run(e, dinp)).toAllClose(Array.from(x, (_, i) => finiteDiff((xx) => loss(xx, w), x, i)));
    expect(await run(e, dw)).toAllClose(Array.from(w, (_, i) => finiteDiff((ww) => loss(x, ww), w, i)));
  });
});
