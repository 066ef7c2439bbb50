import { describe, expect, it } from 'vitest';
import { createTensor, fill, readF32 } from '../../src/gpu/transfer';
import { gatherRows } from '../../src/kernels/gather';
import { testEngine } from '../helpers/gpu';
import { randArray, randInt, rng } from '../helpers/random';

const e = await testEngine();

describe(`gatherRows on ${e.gpu.adapter.name}`, () => {
  for (const [R, C, B] of [[1, 1, 1], [7, 259, 5], [33, 70000, 3]]) {
    it(`(R=${R}, C=${C}) -> ${B} rows`, async () => {
      const r = rng(R * 31 + C);
      const x = randArray(r, R * C);
      const idx = Int32Array.from({ length: B }, () => randInt(r, 0, R - 1));
      const out = e.pool.tensor([B, C]);
      fill(e.gpu, out, NaN);
      await gatherRows(e, createTensor(e.gpu, x, [R, C]), createTensor(e.gpu, idx, [B]), out);
      e.rec.submit();
      const ref = new Float64Array(B * C);
      for (let b = 0; b < B; b++) for (let c = 0; c < C; c++) ref[b * C + c] = x[idx[b] * C + c];
      expect(await readF32(e.gpu, out)).toAllClose(ref, { tol: 0 });
      e.pool.release(out);
    });
  }

  it('writes NaN for an index outside the rows', async () => {
    const out = e.pool.tensor([2, 3]);
    await gatherRows(e, createTensor(e.gpu, new Float32Array(6).fill(1), [2, 3]), createTensor(e.gpu, Int32Array.from([1, 2]), [2]), out);
    e.rec.submit();
    const got = Array.from(await readF32(e.gpu, out));
    expect(got.slice(0, 3)).toEqual([1, 1, 1]);
    expect(got.slice(3).every(Number.isNaN)).toBe(true);
    e.pool.release(out);
  });
});
