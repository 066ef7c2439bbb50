// PassTimer: GPU time per kernel from timestamp queries, summed by pipeline label across submits.
import { describe, expect, it } from 'vitest';
import { PassTimer } from '../../src/gpu/pass-timer';
import { createTensor, readF32 } from '../../src/gpu/transfer';
import { addInPlace } from '../../src/kernels/elementwise';
import { matmul } from '../../src/kernels/matmul';
import { testEngine } from '../helpers/gpu';

const e = await testEngine();

describe.runIf(e.gpu.hasTimestamps)(`PassTimer on ${e.gpu.adapter.name}`, () => {
  it('times every pass by pipeline label across submits, the larger kernel taking longer', async () => {
    const n = 256;
    const a = createTensor(e.gpu, new Float32Array(n * n).fill(0.5), [n, n]);
    const c = e.pool.tensor([n, n]);
    const x = createTensor(e.gpu, new Float32Array(n).fill(1), [n]);
    const y = createTensor(e.gpu, new Float32Array(n).fill(2), [n]);
    await matmul(e, a, a, c); // compiles, untimed
    await addInPlace(e, x, y);
    e.rec.submit();
    await e.rec.done();

    const timer = new PassTimer(e.gpu);
    e.rec.timer = timer;
    for (let i = 0; i < 2; i++) {
      await matmul(e, a, a, c);
      await addInPlace(e, x, y);
      await addInPlace(e, x, y);
      e.rec.submit();
    }
    e.rec.timer = null;
    await e.rec.done();
    const times = await timer.collect();
    expect(times.map((t) => t.passes).reduce((s, p) => s + p, 0)).toBe(6);
    const add = times.find((t) => t.label.startsWith('elementwise_add'))!;
    const mm = times.find((t) => t.label.startsWith('matmul_'))!;
    expect([add.passes, mm.passes]).toEqual([4, 2]);
    expect(add.ms).toBeGreaterThan(0);
    expect(mm.ms).toBeGreaterThan(add.ms / 2); // 33 MFLOP against 256 additions per pass
    expect(times[0]).toBe(mm); // largest first
    expect(timer.untimed).toBe(0);
    // The timed passes computed as untimed ones do: x = 1 + 2 + 4 * 2.
    expect(Array.from(await readF32(e.gpu, x)).every((v) => v === 11)).toBe(true);
    // Collecting again adds nothing new.
    expect((await timer.collect()).map((t) => t.passes)).toEqual(times.map((t) => t.passes));
    e.pool.release(c);
  });
});
