import { afterEach, describe, expect, it } from 'vitest';
import { COL_CHUNK, reduceCols } from '../../src/kernels/reduce';
import { testEngine } from '../helpers/gpu';
import { randArray, rng } from '../helpers/random';
import { reduceColsRef } from '../reference/reduce-cols';
import { GpuData, run } from './gpu-data';

const e = await testEngine();
const d = new GpuData(e);
afterEach(() => d.free());

// one pass (R <= COL_CHUNK) and two passes, with C not a multiple of anything
const shapes: [number, number][] = [[1, 1], [5, 37], [COL_CHUNK, 100], [COL_CHUNK + 1, 3], [133, 771], [5000, 7]];

describe(`reduceCols on ${e.gpu.adapter.name}`, () => {
  for (const [R, C] of shapes) {
    it(`(R=${R}, C=${C}) overwrites or accumulates the column sums`, async () => {
      const r = rng(R * 31 + C);
      const x = randArray(r, R * C);
      const prev = randArray(r, C);
      const xt = d.tensor(x, [R, C], 256);
      const out = d.poisoned([C]);
      const acc = d.tensor(prev, [C], 512);
      await reduceCols(e, xt, out);
      await reduceCols(e, xt, acc, { accumulate: true });
      const ref = reduceColsRef(x, R, C);
      expect(await run(e, out)).toAllClose(ref);
      expect(await run(e, acc)).toAllClose(ref.map((v, c) => v + prev[c]));
    });
  }

  it('gives bit-identical results when run again', async () => {
    const [R, C] = [3000, 50];
    const xt = d.tensor(randArray(rng(4), R * C, 100), [R, C]);
    const a = d.poisoned([C]);
    const b = d.poisoned([C]);
    await reduceCols(e, xt, a);
    await reduceCols(e, xt, b);
    expect(Array.from(await run(e, b))).toEqual(Array.from(await run(e, a)));
  });
});
