import { afterEach, describe, expect, it } from 'vitest';
import { buildTokenIndex, embeddingBackward, embeddingForward, tokenIndexBuffers, uploadTokenIndex } from '../../src/kernels/embedding';
import { testEngine } from '../helpers/gpu';
import { randArray, randInt, rng } from '../helpers/random';
import { embeddingBackwardRef, embeddingForwardRef } from '../reference/embedding';
import { GpuData, run } from './gpu-data';

const e = await testEngine();
const d = new GpuData(e);
afterEach(() => d.free());

const randTokens = (r: () => number, n: number, V: number) => Int32Array.from({ length: n }, () => randInt(r, 0, V - 1));

// [B, T, C, V]: V = 7 repeats ids heavily; V = 32000 makes most ids distinct
const shapes: [number, number, number, number][] = [[1, 1, 1, 3], [2, 5, 37, 259], [3, 100, 100, 7], [4, 300, 24, 32000]];

describe(`embedding on ${e.gpu.adapter.name}`, () => {
  it('buildTokenIndex groups positions by id, in order', () => {
    const idx = buildTokenIndex([5, 2, 5, 0, 2, 5], 6);
    expect(Array.from(idx.ids)).toEqual([0, 2, 5]);
    expect(Array.from(idx.starts)).toEqual([0, 1, 3, 6]);
    expect(Array.from(idx.positions)).toEqual([3, 1, 4, 0, 2, 5]);
    expect(() => buildTokenIndex([1, 6], 6)).toThrow('token 6 at position 1 is outside [0, 6)');
  });

  for (const [B, T, C, V] of shapes) {
    for (const learnedPos of [true, false]) {
      it(`forward (B=${B}, T=${T}, C=${C}, V=${V}, ${learnedPos ? 'with' : 'without'} wpe) matches the reference`, async () => {
        const r = rng(B * T + C + V);
        const tokens = randTokens(r, B * T, V);
        const wte = randArray(r, V * C);
        const maxT = T + 3;
        const wpe = randArray(r, maxT * C);
        const posOffset = learnedPos ? 2 : 0;
        const out = d.poisoned([B, T, C], 'f32', 256);
        await embeddingForward(e, d.tensor(tokens, [B, T]), d.tensor(wte, [V, C], 256), learnedPos ? d.tensor(wpe, [maxT, C]) : null, out, { posOffset });
        expect(await run(e, out)).toAllClose(embeddingForwardRef(tokens, wte, learnedPos ? wpe : null, B, T, C, posOffset));
      });
    }

    it(`backward (B=${B}, T=${T}, C=${C}, V=${V}) matches the reference, overwriting and accumulating`, async () => {
      const r = rng(B * T * 3 + C + V);
      const tokens = randTokens(r, B * T, V);
      const dout = randArray(r, B * T * C);
      const maxT = T + 4;
      const ref = embeddingBackwardRef(dout, tokens, V, maxT, B, T, C);
      const bufs = tokenIndexBuffers(e, B * T);
      const index = uploadTokenIndex(e.gpu, buildTokenIndex(tokens, V), bufs);
      const doutT = d.tensor(dout, [B, T, C]);

      const dwte = d.poisoned([V, C]); // every row must be written: absent ids become 0
      const dwpe = d.poisoned([maxT, C], 'f32', 256); // positions >= T become 0
      await embeddingBackward(e, doutT, index, dwte, dwpe);
      expect(await run(e, dwte)).toAllClose(ref.dwte);
      expect(await run(e, dwpe)).toAllClose(ref.dwpe);

      const prevTe = randArray(r, V * C);
      const prevPe = randArray(r, maxT * C);
      const accTe = d.tensor(prevTe, [V, C], 256);
      const accPe = d.tensor(prevPe, [maxT, C]);
      await embeddingBackward(e, doutT, index, accTe, accPe, { accumulate: true });
      expect(await run(e, accTe)).toAllClose(ref.dwte.map((v, i) => v + prevTe[i]));
      expect(await run(e, accPe)).toAllClose(ref.dwpe.map((v, i) => v + prevPe[i]));
      for (const t of Object.values(bufs)) e.pool.release(t);
    });
  }

  it('writes NaN rows for token ids outside [0, V)', async () => {
    const [V, C] = [5, 3];
    const out = d.poisoned([1, 3, C]);
    await embeddingForward(e, d.tensor(Int32Array.from([1, -1, 5]), [1, 3]), d.tensor(new Float32Array(V * C).fill(1), [V, C]), null, out);
    const got = Array.from(await run(e, out));
    expect(got.slice(0, 3)).toEqual([1, 1, 1]);
    expect(got.slice(3).every(Number.isNaN)).toBe(true);
  });

  it('rejects positions beyond wpe with a readable error', async () => {
    const wte = d.tensor(new Float32Array(8), [4, 2]);
    await expect(embeddingForward(e, d.tensor(new Int32Array(6), [1, 6]), wte, d.tensor(new Float32Array(10), [5, 2]), d.poisoned([1, 6, 2]))).rejects.toThrow(
      'positions up to 6 but wpe has 5 rows',
    );
  });
});
