// Half-precision conversions: known bit patterns, every special value, exhaustive
// round trips, and rounding checked against a brute-force nearest-value search.
import { describe, expect, it } from 'vitest';
import {
  bf16ToF32,
  decodeBf16,
  decodeF16,
  encodeBf16,
  encodeF16,
  f16ToF32,
  f32ToBf16,
  f32ToF16,
} from '../../src/io/safetensors';
import { f32Bits, f32FromBits } from '../../src/io/dtype';
import { rng as mulberry32 } from '../helpers/random';

describe('f16 -> f32', () => {
  it.each([
    [0x0000, 0],
    [0x0001, 2 ** -24], // smallest subnormal
    [0x0200, 2 ** -15],
    [0x03ff, 1023 * 2 ** -24], // largest subnormal
    [0x0400, 2 ** -14], // smallest normal
    [0x3c00, 1],
    [0x3c01, 1 + 2 ** -10],
    [0x3555, 0.333251953125],
    [0xc000, -2],
    [0x7bff, 65504], // largest finite
    [0x7c00, Infinity],
    [0xfc00, -Infinity],
    [0x8001, -(2 ** -24)],
  ])('bits %i', (bits, value) => {
    expect(f16ToF32(bits)).toBe(value);
  });

  it('keeps the sign of zero and gives NaN for every NaN pattern', () => {
    expect(Object.is(f16ToF32(0x8000), -0)).toBe(true);
    for (const nan of [0x7c01, 0x7e00, 0x7fff, 0xfe00, 0xfc01]) expect(f16ToF32(nan)).toBeNaN();
  });
});

describe('bf16 -> f32', () => {
  it.each([
    [0x3f80, 1],
    [0xc040, -3],
    [0x0001, 2 ** -133], // smallest subnormal
    [0x0080, 2 ** -126], // smallest normal
    [0x7f7f, 3.3895313892515355e38], // largest finite
    [0x7f80, Infinity],
    [0xff80, -Infinity],
  ])('bits %i', (bits, value) => {
    expect(bf16ToF32(bits)).toBe(value);
  });

  it('keeps -0 and NaN', () => {
    expect(Object.is(bf16ToF32(0x8000), -0)).toBe(true);
    expect(bf16ToF32(0x7fc0)).toBeNaN();
    expect(bf16ToF32(0xff81)).toBeNaN();
  });
});

describe('f32 -> f16 rounding', () => {
  it.each([
    [1, 0x3c00],
    [-2, 0xc000],
    [65504, 0x7bff],
    [65519, 0x7bff], // below the halfway point to 65536
    [65520, 0x7c00], // halfway: ties to even = overflow to inf
    [1e6, 0x7c00],
    [-1e6, 0xfc00],
    [Infinity, 0x7c00],
    [-Infinity, 0xfc00],
    [2 ** -24, 0x0001],
    [2 ** -25, 0x0000], // tie between 0 and the smallest subnormal: even = 0
    [2 ** -25 * 1.0001, 0x0001],
    [1.5 * 2 ** -24, 0x0002], // tie between 1 and 2 units: even = 2
    [2.5 * 2 ** -24, 0x0002], // tie between 2 and 3 units: even = 2
    [1023.5 * 2 ** -24, 0x0400], // rounds up from the largest subnormal into the smallest normal
    [1e-8, 0x0000],
    [-1e-8, 0x8000],
    [1 + 2 ** -11, 0x3c00], // tie: even mantissa
    [1 + 3 * 2 ** -11, 0x3c02], // tie: even mantissa upward
    [1 + 2 ** -11 + 2 ** -20, 0x3c01],
    [2 ** -140, 0x0000], // an f32 subnormal
  ])('%s -> bits %i', (x, bits) => {
    expect(f32ToF16(x)).toBe(bits);
  });

  it('keeps -0 and makes NaN a quiet NaN of the same sign', () => {
    expect(f32ToF16(-0)).toBe(0x8000);
    expect(f32ToF16(NaN) & 0x7e00).toBe(0x7e00);
    expect(f32ToF16(f32FromBits(0xff800001))).toBe(0xfe00); // signalling NaN with tiny payload -> quiet
    expect(f16ToF32(f32ToF16(f32FromBits(0x7f800001)))).toBeNaN();
  });

  it('round-trips every f16 value exactly', () => {
    const bad: number[] = [];
    for (let h = 0; h < 65536; h++) {
      const x = f16ToF32(h);
      const ok = Number.isNaN(x) ? Number.isNaN(f16ToF32(f32ToF16(x))) : f32ToF16(x) === h;
      if (!ok) bad.push(h);
    }
    expect(bad).toEqual([]);
  });

  it('agrees with a brute-force nearest-value search (ties to even) on random f32 values', () => {
    // All finite non-negative f16 values in increasing order (bits 0x0000..0x7bff are monotone).
    const values: number[] = [];
    for (let h = 0; h <= 0x7bff; h++) values.push(f16ToF32(h));
    const nearest = (x: number): number => {
      const a = Math.abs(x);
      if (a >= 65520) return 0x7c00;
      let lo = 0;
      let hi = values.length - 1;
      while (hi - lo > 1) {
        const mid = (lo + hi) >> 1;
        if (values[mid] <= a) lo = mid;
        else hi = mid;
      }
      const dl = a - values[lo];
      const dh = values[hi] - a;
      return dl < dh ? lo : dh < dl ? hi : lo % 2 === 0 ? lo : hi;
    };
    const rand = mulberry32(7);
    const bad: string[] = [];
    for (let i = 0; i < 20000; i++) {
      // Exponents spread over the whole f16 range and a bit beyond, both signs.
      const e = Math.floor(rand() * 46) - 30;
      const x = Math.fround((rand() < 0.5 ? -1 : 1) * (1 + rand()) * 2 ** e);
      const want = nearest(x) | (x < 0 ? 0x8000 : 0);
      if (f32ToF16(x) !== want) bad.push(`${x}: got ${f32ToF16(x)}, want ${want}`);
    }
    expect(bad).toEqual([]);
  });
});

describe('f32 -> bf16 rounding', () => {
  it.each([
    [0x3f800000, 0x3f80],
    [0x3f808000, 0x3f80], // 1 + 2^-8: tie, even
    [0x3f818000, 0x3f82], // 1 + 3·2^-8: tie, even upward
    [0x3f808001, 0x3f81],
    [0x7f7fffff, 0x7f80], // f32 max rounds to inf
    [0xff7fffff, 0xff80],
    [0x7f800000, 0x7f80],
    [0x00000001, 0x0000], // f32 subnormals
    [0x00008000, 0x0000], // tie, even
    [0x00018000, 0x0002], // tie, even upward
    [0x80000000, 0x8000],
  ])('f32 bits %i -> bits %i', (f32bits, bits) => {
    expect(f32ToBf16(f32FromBits(f32bits))).toBe(bits);
  });

  it('makes NaN quiet, keeping the sign', () => {
    expect(f32ToBf16(f32FromBits(0x7f800001))).toBe(0x7fc0);
    expect(f32ToBf16(f32FromBits(0xff800001))).toBe(0xffc0);
    expect(bf16ToF32(f32ToBf16(NaN))).toBeNaN();
  });

  it('round-trips every bf16 value exactly', () => {
    const bad: number[] = [];
    for (let b = 0; b < 65536; b++) {
      const x = bf16ToF32(b);
      const ok = Number.isNaN(x) ? Number.isNaN(bf16ToF32(f32ToBf16(x))) : f32ToBf16(x) === b;
      if (!ok) bad.push(b);
    }
    expect(bad).toEqual([]);
  });

  it('is the nearest bf16 on random values', () => {
    const rand = mulberry32(11);
    const bad: number[] = [];
    for (let i = 0; i < 20000; i++) {
      const x = Math.fround((rand() - 0.5) * 2 ** (Math.floor(rand() * 80) - 40));
      const b = f32ToBf16(x);
      const err = Math.abs(bf16ToF32(b) - x);
      // The neighbours either side are no closer.
      if (err > Math.abs(bf16ToF32(b + 1) - x)) bad.push(x);
      if ((b & 0x7fff) > 0 && err > Math.abs(bf16ToF32(b - 1) - x)) bad.push(x);
    }
    expect(bad).toEqual([]);
  });
});

describe('array conversions', () => {
  it('encode/decode arrays agree with the scalar functions', () => {
    const rand = mulberry32(3);
    const xs = new Float32Array(1000).map(() => (rand() - 0.5) * 100);
    xs.set([0, -0, Infinity, -Infinity, NaN, 2 ** -20, 65504, 1e-30]);
    const h = encodeF16(xs);
    const b = encodeBf16(xs);
    for (let i = 0; i < xs.length; i++) {
      expect(h[i]).toBe(f32ToF16(xs[i]));
      expect(b[i]).toBe(f32ToBf16(xs[i]));
    }
    const dh = decodeF16(h);
    const db = decodeBf16(b);
    for (let i = 0; i < xs.length; i++) {
      expect(Object.is(dh[i], Math.fround(f16ToF32(h[i])))).toBe(true);
      expect(Object.is(db[i], Math.fround(bf16ToF32(b[i])))).toBe(true);
    }
  });

  it('encodes a subarray view at a non-zero offset', () => {
    const base = new Float32Array([9, 1, 2, 3]);
    expect([...encodeF16(base.subarray(1))]).toEqual([0x3c00, 0x4000, 0x4200]);
    expect(f32Bits(1)).toBe(0x3f800000);
  });
});
