import { afterEach, describe, expect, it } from 'vitest';
import { geluBackward, geluForward, swigluBackward, swigluForward } from '../../src/kernels/activations';
import { testEngine } from '../helpers/gpu';
import { randArray, rng } from '../helpers/random';
import { geluBackwardRef, geluRef, swigluBackwardRef, swigluRef } from '../reference/activations';
import { GpuData, finiteDiff, run } from './gpu-data';

const e = await testEngine();
const d = new GpuData(e);
afterEach(() => d.free());

// 133*771 > 1024 workgroups * 64: the grid-stride loop takes more than one turn
const shapes: [number, number][] = [[1, 1], [1, 37], [5, 100], [133, 771]];
/** Values that saturate tanh/sigmoid and overflow exp, among random ones (not first: SiLU(-100) is denormal, flushed to 0 on GPUs). */
const withExtremes = (x: Float32Array) => {
  x.set([0.5, -100, 100, -20, 20, -9.5, 0, 1e-8].slice(0, x.length));
  return x;
};

describe(`activations on ${e.gpu.adapter.name}`, () => {
  for (const [N, F] of shapes) {
    it(`GELU forward and backward (N=${N}, F=${F}) match the float64 reference`, async () => {
      const r = rng(N + F);
      const x = withExtremes(randArray(r, N * F, 4));
      const dout = randArray(r, N * F);
      const out = d.poisoned([N, F]);
      const dinp = d.poisoned([N, F], 'f32', 256);
      const xt = d.tensor(x, [N, F], 512);
      await geluForward(e, xt, out);
      await geluBackward(e, xt, d.tensor(dout, [N, F]), dinp);
      expect(await run(e, out)).toAllClose(geluRef(x));
      expect(await run(e, dinp)).toAllClose(geluBackwardRef(x, dout));
    });

    it(`SwiGLU forward and backward (N=${N}, F=${F}) match the float64 reference`, async () => {
      const r = rng(N * F + 3);
      const gate = withExtremes(randArray(r, N * F, 6));
      const up = randArray(r, N * F, 2);
      const dout = randArray(r, N * F);
      const out = d.poisoned([N, F]);
      const dgate = d.poisoned([N, F]);
      const dup = d.poisoned([N, F], 'f32', 256);
      const g = d.tensor(gate, [N, F]);
      const u = d.tensor(up, [N, F], 256);
      await swigluForward(e, g, u, out);
      await swigluBackward(e, g, u, d.tensor(dout, [N, F]), dgate, dup);
      const ref = swigluBackwardRef(gate, up, dout);
      expect(await run(e, out)).toAllClose(swigluRef(gate, up));
      expect(await run(e, dgate)).toAllClose(ref.dgate);
      expect(await run(e, dup)).toAllClose(ref.dup);
    });
  }

  it('backward kernels agree with finite differences of the forward', async () => {
    const r = rng(11);
    const x = Float64Array.from(randArray(r, 16, 3));
    const up = Float64Array.from(randArray(r, 16, 2));
    const g = Float64Array.from(randArray(r, 16)); // L = sum(out * g), so dout = g
    const dinp = d.poisoned([16]);
    const dgate = d.poisoned([16]);
    const dup = d.poisoned([16]);
    const xt = d.tensor(new Float32Array(x), [16]);
    await geluBackward(e, xt, d.tensor(new Float32Array(g), [16]), dinp);
    await swigluBackward(e, xt, d.tensor(new Float32Array(up), [16]), d.tensor(new Float32Array(g), [16]), dgate, dup);
    const dot = (v: Float64Array) => v.reduce((s, o, i) => s + o * g[i], 0);
    expect(await run(e, dinp)).toAllClose(Array.from(x, (_, i) => finiteDiff((xx) => dot(geluRef(xx)), x, i)));
    expect(await run(e, dgate)).toAllClose(Array.from(x, (_, i) => finiteDiff((xx) => dot(swigluRef(xx, up)), x, i)));
    expect(await run(e, dup)).toAllClose(Array.from(up, (_, i) => finiteDiff((uu) => dot(swigluRef(x, uu)), up, i)));
  });

  it('rejects mismatched shapes with a readable error', async () => {
    await expect(geluForward(e, d.tensor(new Float32Array(6), [2, 3]), d.poisoned([3, 2]))).rejects.toThrow('geluForward inp: expected shape [3,2], got [2,3]');
  });
});
