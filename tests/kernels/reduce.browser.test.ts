import { describe, expect, it } from 'vitest';
import { createTensor, fill, readF32 } from '../../src/gpu/transfer';
import { reduceRows } from '../../src/kernels/reduce';
import { testEngine } from '../helpers/gpu';
import { randArray, randInt, rng } from '../helpers/random';
import { reduceRowsRef } from '../reference/reduce';

const e = await testEngine();

describe(`reduceRows on ${e.gpu.adapter.name}`, () => {
  const r = rng(1);
  const shapes: [number, number][] = [[1, 1], [1, 7], [3, 64], [5, 65], [17, 1000], [2, 4099]];
  for (let i = 0; i < 4; i++) shapes.push([randInt(r, 1, 300), randInt(r, 1, 3000)]);

  for (const op of ['sum', 'sumsq'] as const) {
    for (const [R, N] of shapes) {
      it(`${op} (R=${R}, N=${N}) matches the float64 reference`, async () => {
        const x = randArray(r, R * N);
        const xt = createTensor(e.gpu, x, [R, N]);
        const out = e.pool.tensor([R]);
        fill(e.gpu, out, NaN); // poison: an unwritten element fails
        await reduceRows(e, xt, out, op);
        e.rec.submit();
        expect(await readF32(e.gpu, out)).toAllClose(reduceRowsRef(x, R, N, op));
        e.pool.release(out);
        xt.buffer.destroy();
      });
    }
  }

  it('rejects a mismatched output shape with a readable error', async () => {
    const xt = createTensor(e.gpu, new Float32Array(6), [2, 3]);
    await expect(reduceRows(e, xt, e.pool.tensor([3]))).rejects.toThrow('expected shape [2], got [3]');
  });

  it('gives the same result in a dedicated Web Worker', async () => {
    const R = 37;
    const N = 513;
    const x = randArray(rng(7), R * N);
    const worker = new Worker(new URL('./reduce.worker.ts', import.meta.url), { type: 'module' });
    const reply = await new Promise<{ adapter: string; out: Float32Array; inWorker: boolean; error?: string }>((resolve) => {
      worker.onmessage = (ev) => resolve(ev.data);
      worker.postMessage({ R, N, x, op: 'sum' });
    });
    worker.terminate();
    expect(reply.error).toBeUndefined();
    expect(reply.inWorker).toBe(true);
    expect(reply.adapter).toBe(e.gpu.adapter.name);
    expect(reply.out).toAllClose(reduceRowsRef(x, R, N, 'sum'));
  });
});
