import { describe, expect, it } from 'vitest';
import type { Tensor } from '../../src/gpu/tensor';
import { createTensor, fill, readF32 } from '../../src/gpu/transfer';
import { type AttentionVariant, attentionBackward, attentionDecode, attentionForward, kvCacheWrite } from '../../src/kernels/attention';
import { headsOf } from '../../src/kernels/attention/heads';
import { testEngine } from '../helpers/gpu';
import { randArray, randInt, rng } from '../helpers/random';
import { type AttnDims, attentionBackwardRef, attentionDecodeRef, attentionForwardRef } from '../reference/attention';

const e = await testEngine();
const VARIANTS: AttentionVariant[] = ['subgroup', 'private', 'tiled'];

/** Random q, k, v, dout for `d`, on the CPU and as (B,T,H,HS) GPU tensors. */
function inputs(d: AttnDims, seed: number) {
  const r = rng(seed);
  const q = randArray(r, d.B * d.T * d.NH * d.HS);
  const k = randArray(r, d.B * d.T * d.NKV * d.HS);
  const v = randArray(r, d.B * d.T * d.NKV * d.HS);
  const dout = randArray(r, d.B * d.T * d.NH * d.HS);
  const gpu = {
    q: createTensor(e.gpu, q, [d.B, d.T, d.NH, d.HS]),
    k: createTensor(e.gpu, k, [d.B, d.T, d.NKV, d.HS]),
    v: createTensor(e.gpu, v, [d.B, d.T, d.NKV, d.HS]),
    dout: createTensor(e.gpu, dout, [d.B, d.T, d.NH, d.HS]),
  };
  return { q, k, v, dout, gpu };
}

/** Pooled output tensors, poisoned with NaN so an unwritten element fails. */
function outputs(d: AttnDims) {
  const o = {
    out: e.pool.tensor([d.B, d.T, d.NH, d.HS]),
    lse: e.pool.tensor([d.B, d.NH, d.T]),
    dq: e.pool.tensor([d.B, d.T, d.NH, d.HS]),
    dk: e.pool.tensor([d.B, d.T, d.NKV, d.HS]),
    dv: e.pool.tensor([d.B, d.T, d.NKV, d.HS]),
  };
  for (const t of Object.values(o)) fill(e.gpu, t, NaN);
  return o;
}

function release(...ts: Tensor[]): void {
  for (const t of ts) e.pool.release(t);
}

describe(`attention on ${e.gpu.adapter.name}`, () => {
  // T not a multiple of any block (rows per team 1..16, keys per block 2..8, tiles 4..16), T = 1,
  // one head, GQA 2:1 and 6:1, head sizes 16, 48, 64, 128. Every head size is a new set of
  // pipelines and SwiftShader compiles slowly, so the fallbacks skip some: 'private' (the CPU
  // fallback without subgroups) skips 128, 'tiled' (for GPUs) skips 64.
  const cases: AttnDims[] = [
    { B: 2, T: 7, NH: 1, NKV: 1, HS: 16 },
    { B: 2, T: 33, NH: 4, NKV: 2, HS: 16 },
    { B: 1, T: 100, NH: 6, NKV: 1, HS: 48 },
    { B: 2, T: 21, NH: 2, NKV: 1, HS: 64 },
    { B: 2, T: 1, NH: 4, NKV: 2, HS: 128 },
    { B: 1, T: 37, NH: 2, NKV: 2, HS: 128 },
  ];
  // Plus random shapes (fixed seed) on head sizes already compiled.
  const r = rng(2024);
  for (let i = 0; i < 2; i++) {
    const NKV = randInt(r, 1, 2);
    cases.push({ B: randInt(r, 1, 3), T: randInt(r, 2, 70), NH: NKV * randInt(r, 1, 3), NKV, HS: [16, 48][i] });
  }
  const skip: Record<AttentionVariant, number> = { subgroup: 0, private: 128, tiled: 64 };
  for (const variant of VARIANTS) {
    for (const d of cases.filter((c) => c.HS !== skip[variant])) {
      it(`${variant}: forward and backward (B=${d.B}, T=${d.T}, NH=${d.NH}, NKV=${d.NKV}, HS=${d.HS}) match the float64 reference`, async () => {
        const x = inputs(d, d.T * 31 + d.HS);
        const o = outputs(d);
        await attentionForward(e, x.gpu.q, x.gpu.k, x.gpu.v, o.out, o.lse, { variant });
        await attentionBackward(e, x.gpu.dout, x.gpu.q, x.gpu.k, x.gpu.v, o.out, o.lse, o.dq, o.dk, o.dv, { variant });
        e.rec.submit();
        const ref = attentionForwardRef(x.q, x.k, x.v, d);
        const g = attentionBackwardRef(x.dout, x.q, x.k, x.v, d);
        expect(await readF32(e.gpu, o.out)).toAllClose(ref.out);
        expect(await readF32(e.gpu, o.lse)).toAllClose(ref.lse);
        expect(await readF32(e.gpu, o.dq)).toAllClose(g.dq);
        expect(await readF32(e.gpu, o.dk)).toAllClose(g.dk);
        expect(await readF32(e.gpu, o.dv)).toAllClose(g.dv);
        release(...Object.values(o));
      });
    }
  }

  for (const variant of VARIANTS) {
    it(`${variant}: reads q, k, v from one fused qkv row and writes dq, dk, dv into one fused gradient, with a custom scale`, async () => {
      const d: AttnDims = { B: 2, T: 19, NH: 4, NKV: 2, HS: 16 };
      const x = inputs(d, 77);
      const W = (d.NH + 2 * d.NKV) * d.HS;
      // (B, T, W) rows [q heads | k heads | v heads], as a fused projection writes them.
      const qkv = new Float32Array(d.B * d.T * W);
      for (let row = 0; row < d.B * d.T; row++) {
        qkv.set(x.q.subarray(row * d.NH * d.HS, (row + 1) * d.NH * d.HS), row * W);
        qkv.set(x.k.subarray(row * d.NKV * d.HS, (row + 1) * d.NKV * d.HS), row * W + d.NH * d.HS);
        qkv.set(x.v.subarray(row * d.NKV * d.HS, (row + 1) * d.NKV * d.HS), row * W + (d.NH + d.NKV) * d.HS);
      }
      const t = createTensor(e.gpu, qkv, [d.B, d.T, W]);
      const dqkv = e.pool.tensor([d.B, d.T, W]);
      fill(e.gpu, dqkv, NaN);
      const views = (x: Tensor) => [headsOf(x, 0, d.NH, d.HS), headsOf(x, d.NH * d.HS, d.NKV, d.HS), headsOf(x, (d.NH + d.NKV) * d.HS, d.NKV, d.HS)];
      const [q, k, v] = views(t);
      const [dq, dk, dv] = views(dqkv);
      const o = outputs(d);
      const scale = 0.3;
      await attentionForward(e, q, k, v, o.out, o.lse, { variant, scale });
      await attentionBackward(e, x.gpu.dout, q, k, v, o.out, o.lse, dq, dk, dv, { variant, scale });
      e.rec.submit();
      expect(await readF32(e.gpu, o.out)).toAllClose(attentionForwardRef(x.q, x.k, x.v, d, scale).out);
      const g = attentionBackwardRef(x.dout, x.q, x.k, x.v, d, scale);
      const got = await readF32(e.gpu, dqkv);
      const cols = (from: number, n: number) => {
        const a = new Float32Array(d.B * d.T * n);
        for (let row = 0; row < d.B * d.T; row++) a.set(got.subarray(row * W + from, row * W + from + n), row * n);
        return a;
      };
      expect(cols(0, d.NH * d.HS)).toAllClose(g.dq);
      expect(cols(d.NH * d.HS, d.NKV * d.HS)).toAllClose(g.dk);
      expect(cols((d.NH + d.NKV) * d.HS, d.NKV * d.HS)).toAllClose(g.dv);
      release(dqkv, ...Object.values(o));
    });
  }

  it('backward agrees with central differences of the float64 forward (loss = sum(out ∘ w))', async () => {
    const d: AttnDims = { B: 1, T: 6, NH: 2, NKV: 1, HS: 8 };
    const x = inputs(d, 5); // x.dout plays w: dloss/dout = w
    const o = outputs(d);
    await attentionForward(e, x.gpu.q, x.gpu.k, x.gpu.v, o.out, o.lse);
    await attentionBackward(e, x.gpu.dout, x.gpu.q, x.gpu.k, x.gpu.v, o.out, o.lse, o.dq, o.dk, o.dv);
    e.rec.submit();
    const loss = (q: Float64Array, k: Float64Array, v: Float64Array) => attentionForwardRef(q, k, v, d).out.reduce((s, y, i) => s + y * x.dout[i], 0);
    const base = { q: Float64Array.from(x.q), k: Float64Array.from(x.k), v: Float64Array.from(x.v) };
    const h = 1e-5;
    for (const [name, got] of [['q', o.dq], ['k', o.dk], ['v', o.dv]] as const) {
      const fd = new Float64Array(base[name].length);
      for (let i = 0; i < fd.length; i++) {
        const plus = { ...base, [name]: Float64Array.from(base[name]) };
        const minus = { ...base, [name]: Float64Array.from(base[name]) };
        plus[name][i] += h;
        minus[name][i] -= h;
        fd[i] = (loss(plus.q, plus.k, plus.v) - loss(minus.q, minus.k, minus.v)) / (2 * h);
      }
      // Central differences in float64 are good to ~1e-9 here; the 1e-5 budget is the GPU's float32.
      expect(await readF32(e.gpu, got)).toAllClose(fd, { tol: 1e-5 });
    }
    release(...Object.values(o));
  });

  for (const variant of VARIANTS) {
    it(`${variant}: decode over a KV cache equals the causal forward's row at each sequence's own position`, async () => {
      const [B, NH, NKV, HS, Tmax] = [3, 4, 2, 16, 40];
      const d: AttnDims = { B, T: Tmax, NH, NKV, HS };
      const x = inputs(d, 11);
      const full = attentionForwardRef(x.q, x.k, x.v, d).out;
      const kc = e.pool.tensor([B, NKV, Tmax, HS]);
      const vc = e.pool.tensor([B, NKV, Tmax, HS]);
      fill(e.gpu, kc, NaN);
      fill(e.gpu, vc, NaN);
      // Prefill: prompts of lengths 5, 17, 1 (padded to 17), written at position 0.
      const lens = [5, 17, 1];
      const P = 17;
      const rows = <A extends Float32Array | Float64Array>(src: A, H: number, at: (b: number) => number, n: number): A => {
        const a = new (src.constructor as new (n: number) => A)(B * n * H * HS);
        for (let b = 0; b < B; b++) a.set(src.subarray((b * Tmax + at(b)) * H * HS, (b * Tmax + at(b) + n) * H * HS), b * n * H * HS);
        return a;
      };
      const zero = createTensor(e.gpu, new Uint32Array(B), [B]);
      const kp = createTensor(e.gpu, rows(x.k, NKV, () => 0, P), [B, P, NKV, HS]);
      const vp = createTensor(e.gpu, rows(x.v, NKV, () => 0, P), [B, P, NKV, HS]);
      await kvCacheWrite(e, kp, vp, kc, vc, zero);
      const out = e.pool.tensor([B, 1, NH, HS]);
      for (let step = 0; step < 4; step++) {
        // Decode the next token of every sequence: append its k/v at pos[b], then attend 0..pos[b].
        const at = (b: number) => lens[b] + step;
        const pos = createTensor(e.gpu, Uint32Array.from(lens, (_, b) => at(b)), [B]);
        const k1 = createTensor(e.gpu, rows(x.k, NKV, at, 1), [B, 1, NKV, HS]);
        const v1 = createTensor(e.gpu, rows(x.v, NKV, at, 1), [B, 1, NKV, HS]);
        const q1 = createTensor(e.gpu, rows(x.q, NH, at, 1), [B, 1, NH, HS]);
        fill(e.gpu, out, NaN);
        await kvCacheWrite(e, k1, v1, kc, vc, pos);
        await attentionDecode(e, q1, kc, vc, pos, out, { variant });
        e.rec.submit();
        expect(await readF32(e.gpu, out)).toAllClose(rows(full, NH, at, 1));
      }
      release(kc, vc, out);
    });
  }

  it('decode with several query heads per kv head matches the float64 decode reference (HS 64)', async () => {
    const [B, NH, NKV, HS, Tmax] = [2, 6, 2, 64, 23];
    const r = rng(3);
    const q = randArray(r, B * NH * HS);
    const kc = randArray(r, B * NKV * Tmax * HS);
    const vc = randArray(r, B * NKV * Tmax * HS);
    const pos = new Uint32Array([22, 9]);
    const out = e.pool.tensor([B, 1, NH, HS]);
    fill(e.gpu, out, NaN);
    const kct = createTensor(e.gpu, kc, [B, NKV, Tmax, HS]);
    const vct = createTensor(e.gpu, vc, [B, NKV, Tmax, HS]);
    await attentionDecode(e, createTensor(e.gpu, q, [B, 1, NH, HS]), kct, vct, createTensor(e.gpu, pos, [B]), out);
    e.rec.submit();
    expect(await readF32(e.gpu, out)).toAllClose(attentionDecodeRef(q, kc, vc, pos, { B, NH, NKV, HS, Tmax }));
    e.pool.release(out);
  });

  for (const cacheRow of [0, 3]) {
    it(`kvCacheWrite puts rows at pos[b] + t of cache row ${cacheRow} + b and skips rows past the end of the cache`, async () => {
      const [B, T, NKV, HS, Tmax] = [2, 3, 2, 4, 6];
      const Bc = cacheRow + B + 1; // cache rows before and after the written ones stay zero
      const k = randArray(rng(9), B * T * NKV * HS);
      const v = randArray(rng(10), B * T * NKV * HS);
      const kc = e.pool.tensor([Bc, NKV, Tmax, HS]);
      const vc = e.pool.tensor([Bc, NKV, Tmax, HS]);
      fill(e.gpu, kc, 0);
      fill(e.gpu, vc, 0);
      const pos = [1, 4]; // sequence 1's third row would land at 6 = Tmax: skipped
      const kt = createTensor(e.gpu, k, [B, T, NKV, HS]);
      const vt = createTensor(e.gpu, v, [B, T, NKV, HS]);
      const post = createTensor(e.gpu, Uint32Array.from(pos), [B]);
      await kvCacheWrite(e, kt, vt, kc, vc, post, cacheRow);
      e.rec.submit();
      const want = (src: Float32Array) => {
        const c = new Float32Array(Bc * NKV * Tmax * HS);
        for (let b = 0; b < B; b++) {
          for (let t = 0; t < T && pos[b] + t < Tmax; t++) {
            for (let g = 0; g < NKV; g++) c.set(src.subarray(((b * T + t) * NKV + g) * HS, ((b * T + t) * NKV + g + 1) * HS), (((cacheRow + b) * NKV + g) * Tmax + pos[b] + t) * HS);
          }
        }
        return c;
      };
      expect(await readF32(e.gpu, kc)).toEqual(want(k));
      expect(await readF32(e.gpu, vc)).toEqual(want(v));
      await expect(kvCacheWrite(e, kt, vt, kc, vc, post, Bc - 1)).rejects.toThrow(`rows ${Bc - 1}..${Bc} do not fit in a cache of ${Bc} sequences`);
      release(kc, vc);
    });
  }

  it('rejects bad shapes and aliasing with readable errors', async () => {
    const d: AttnDims = { B: 1, T: 4, NH: 3, NKV: 2, HS: 16 };
    const x = inputs(d, 1);
    const o = outputs(d);
    await expect(attentionForward(e, x.gpu.q, x.gpu.k, x.gpu.v, o.out, o.lse)).rejects.toThrow('NKV=2 kv heads must divide NH=3');
    const odd = createTensor(e.gpu, new Float32Array(4 * 6), [1, 4, 1, 6]);
    const oddOut = createTensor(e.gpu, new Float32Array(4 * 6), [1, 4, 1, 6]);
    await expect(attentionForward(e, odd, odd, odd, oddOut, o.lse)).rejects.toThrow('head size 6');
    const qkv = createTensor(e.gpu, new Float32Array(4 * 4 * 16), [1, 4, 64]);
    const lse = e.pool.tensor([1, 2, 4]);
    await expect(attentionForward(e, headsOf(qkv, 0, 2, 16), headsOf(qkv, 32, 1, 16), headsOf(qkv, 48, 1, 16), headsOf(qkv, 0, 2, 16), lse)).rejects.toThrow(
      'out is in the same buffer as q',
    );
    release(lse, ...Object.values(o));
  });
});
