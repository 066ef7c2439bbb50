import { afterEach, describe, expect, it } from 'vitest';
import { add, addInPlace, copy2d, fillWith, scale, scaleInPlace } from '../../src/kernels/elementwise';
import { testEngine } from '../helpers/gpu';
import { randArray, rng } from '../helpers/random';
import { copy2dRef } from '../reference/elementwise';
import { GpuData, run } from './gpu-data';

const e = await testEngine();
const d = new GpuData(e);
afterEach(() => d.free());

// 70001 > 1024 workgroups * 64: the grid-stride loop takes more than one turn
const sizes = [1, 37, 771, 70001];

describe(`elementwise on ${e.gpu.adapter.name}`, () => {
  for (const n of sizes) {
    it(`add, addInPlace, scale, scaleInPlace and fillWith (n=${n}) are exact`, async () => {
      const r = rng(n);
      const a = randArray(r, n);
      const b = randArray(r, n);
      const at = d.tensor(a, [n], 256);
      const bt = d.tensor(b, [n]);
      const sum = d.poisoned([n]);
      const scaled = d.poisoned([n], 'f32', 512);
      const acc = d.tensor(a, [n]);
      const acc2 = d.tensor(b, [n]);
      const filled = d.poisoned([n]);
      await add(e, at, bt, sum);
      await scale(e, at, scaled, -0.37);
      await addInPlace(e, acc, bt);
      await scaleInPlace(e, acc2, 3);
      await fillWith(e, filled, 0.25);
      // f32 in, one f32 operation: the result is the correctly rounded value, so compare exactly
      const f32 = (f: (i: number) => number) => Float32Array.from({ length: n }, (_, i) => f(i));
      expect(Array.from(await run(e, sum))).toEqual(Array.from(f32((i) => a[i] + b[i])));
      expect(Array.from(await run(e, acc))).toEqual(Array.from(f32((i) => a[i] + b[i])));
      expect(Array.from(await run(e, scaled))).toEqual(Array.from(f32((i) => Math.fround(-0.37) * a[i])));
      expect(Array.from(await run(e, acc2))).toEqual(Array.from(f32((i) => 3 * b[i])));
      expect(Array.from(await run(e, filled))).toEqual(new Array(n).fill(0.25));
    });
  }

  for (const [rows, cols, srcStride, dstStride] of [[1, 1, 1, 1], [5, 37, 100, 37], [133, 64, 771, 200], [1200, 61, 61, 130]]) {
    it(`copy2d (${rows}x${cols}, strides ${srcStride} -> ${dstStride}) leaves the gaps untouched`, async () => {
      const r = rng(rows * cols);
      const src = randArray(r, (rows - 1) * srcStride + cols + 3);
      const dst = randArray(r, (rows - 1) * dstStride + cols + 5);
      const dt = d.tensor(dst, [dst.length], 256);
      await copy2d(e, d.tensor(src, [src.length]), dt, { rows, cols, srcStride, dstStride });
      expect(await run(e, dt)).toAllClose(copy2dRef(src, dst, rows, cols, srcStride, dstStride), { tol: 0 });
    });
  }

  it('copy2d refuses to read or write past a view', async () => {
    await expect(copy2d(e, d.tensor(new Float32Array(10), [10]), d.poisoned([100]), { rows: 3, cols: 4, srcStride: 4, dstStride: 4 })).rejects.toThrow(
      'copy2d: reads 12 elements of src, which has 10',
    );
  });
});
