import { describe, expect, it } from 'vitest';
import { createTensor, fill, readF32 } from '../../src/gpu/transfer';
import { headsOf } from '../../src/kernels/attention/heads';
import { ropeBackward, ropeForward } from '../../src/kernels/rope';
import { testEngine } from '../helpers/gpu';
import { randArray, rng } from '../helpers/random';
import { ropeRef } from '../reference/rope';

const e = await testEngine();

describe(`rope on ${e.gpu.adapter.name}`, () => {
  const shapes: [number, number, number, number, number][] = [
    // B, T, H, HS, theta
    [1, 2, 1, 16, 10000],
    [2, 7, 3, 16, 10000],
    [2, 33, 4, 48, 500000],
    [1, 100, 2, 128, 10000],
  ];
  for (const [B, T, H, HS, theta] of shapes) {
    for (const dir of ['forward', 'backward'] as const) {
      it(`${dir} in place (B=${B}, T=${T}, H=${H}, HS=${HS}, theta=${theta}) matches the float64 reference`, async () => {
        const x = randArray(rng(B * 100 + T + HS), B * T * H * HS);
        const xt = createTensor(e.gpu, x, [B, T, H, HS]);
        await (dir === 'forward' ? ropeForward : ropeBackward)(e, xt, { theta });
        e.rec.submit();
        expect(await readF32(e.gpu, xt)).toAllClose(ropeRef(x, B, T, H, HS, theta, undefined, dir === 'backward'));
        xt.buffer.destroy();
      });
    }
  }

  it('writes out of place without touching the input', async () => {
    const [B, T, H, HS] = [2, 9, 2, 32];
    const x = randArray(rng(5), B * T * H * HS);
    const xt = createTensor(e.gpu, x, [B, T, H, HS]);
    const out = e.pool.tensor([B, T, H, HS]);
    fill(e.gpu, out, NaN);
    await ropeForward(e, xt, { theta: 10000, out });
    e.rec.submit();
    expect(await readF32(e.gpu, out)).toAllClose(ropeRef(x, B, T, H, HS, 10000));
    expect(await readF32(e.gpu, xt)).toEqual(x);
    e.pool.release(out);
  });

  it('rotates the q and k heads of a fused qkv row in one call and leaves v alone', async () => {
    const [B, T, NH, NKV, HS] = [2, 5, 4, 2, 16];
    const W = (NH + 2 * NKV) * HS;
    const qkv = randArray(rng(6), B * T * W);
    const t = createTensor(e.gpu, qkv, [B, T, W]);
    await ropeForward(e, headsOf(t, 0, NH + NKV, HS), { theta: 10000 });
    e.rec.submit();
    const got = await readF32(e.gpu, t);
    const qk = new Float32Array(B * T * (NH + NKV) * HS);
    const v = new Float32Array(B * T * NKV * HS);
    for (let r = 0; r < B * T; r++) {
      qk.set(qkv.subarray(r * W, r * W + (NH + NKV) * HS), r * (NH + NKV) * HS);
      v.set(qkv.subarray(r * W + (NH + NKV) * HS, (r + 1) * W), r * NKV * HS);
    }
    const want = ropeRef(qk, B, T, NH + NKV, HS, 10000);
    const gotQk = new Float32Array(qk.length);
    const gotV = new Float32Array(v.length);
    for (let r = 0; r < B * T; r++) {
      gotQk.set(got.subarray(r * W, r * W + (NH + NKV) * HS), r * (NH + NKV) * HS);
      gotV.set(got.subarray(r * W + (NH + NKV) * HS, (r + 1) * W), r * NKV * HS);
    }
    expect(gotQk).toAllClose(want);
    expect(gotV).toEqual(v);
  });

  it('starts each sequence at its own position (KV cache), exact at long positions', async () => {
    const [B, T, H, HS] = [3, 4, 2, 64];
    const base = new Uint32Array([0, 17, 4000]);
    const x = randArray(rng(8), B * T * H * HS);
    const xt = createTensor(e.gpu, x, [B, T, H, HS]);
    const pt = createTensor(e.gpu, base, [B]);
    await ropeForward(e, xt, { theta: 10000, pos: { base: pt, limit: 4096 } });
    e.rec.submit();
    expect(await readF32(e.gpu, xt)).toAllClose(ropeRef(x, B, T, H, HS, 10000, base));
  });

  it('rejects an odd head size', async () => {
    const xt = createTensor(e.gpu, new Float32Array(6), [1, 2, 1, 3]);
    await expect(ropeForward(e, xt, { theta: 10000 })).rejects.toThrow('odd');
  });
});
