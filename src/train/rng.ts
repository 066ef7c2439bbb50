// The training run's seeded random numbers: xoshiro128** 1.1 (Blackman & Vigna,
// https://prng.di.unimi.it/), 128 bits of state, 32-bit outputs. The state is four u32s that
// serialise as a plain number[], so a checkpoint can store it and a resumed run draws exactly the
// numbers an uninterrupted one would. Not for cryptography.

const U32 = 2 ** 32;

const rotl = (x: number, k: number): number => ((x << k) | (x >>> (32 - k))) >>> 0;

/** murmur3's 32-bit finaliser: a bijection on u32, so distinct inputs give distinct outputs. */
function fmix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

export class Rng {
  private constructor(private readonly s: Uint32Array) {}

  /**
   * A generator from a u32 seed. The state is four outputs of a Weyl sequence through `fmix32`: four
   * distinct values, hence never the all-zero state xoshiro must avoid.
   */
  static seeded(seed: number): Rng {
    if (!Number.isInteger(seed) || seed < 0 || seed >= U32) throw new RangeError(`seed must be an integer in [0, 2^32), got ${seed}`);
    const s = new Uint32Array(4);
    for (let i = 0; i < 4; i++) s[i] = fmix32((seed + Math.imul(i + 1, 0x9e3779b9)) >>> 0);
    return new Rng(s);
  }

  /** The generator whose `state()` was `state`. */
  static fromState(state: readonly number[]): Rng {
    if (state.length !== 4 || !state.every((x) => Number.isInteger(x) && x >= 0 && x < U32)) {
      throw new RangeError(`RNG state must be 4 integers in [0, 2^32), got ${JSON.stringify(state)}`);
    }
    if (state.every((x) => x === 0)) throw new RangeError('RNG state is all zeros, which xoshiro128** never reaches');
    return new Rng(Uint32Array.from(state));
  }

  /** Four u32s; `Rng.fromState(rng.state())` continues the same sequence. */
  state(): number[] {
    return Array.from(this.s);
  }

  /** Uniform in [0, 2^32). */
  nextU32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1], 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1] << 9) >>> 0;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** Uniform in [0, 1), 32 bits of resolution. */
  float(): number {
    return this.nextU32() / U32;
  }

  /** Uniform integer in [0, n), unbiased (rejects the top partial block of the u32 range). */
  int(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > U32) throw new RangeError(`int(n) needs an integer n in [1, 2^32], got ${n}`);
    const limit = U32 - (U32 % n);
    let x = this.nextU32();
    while (x >= limit) x = this.nextU32();
    return x % n;
  }
}

/** Fisher–Yates shuffle of `array` in place; returns it. Draws array.length − 1 numbers from `rng`. */
export function shuffle<T>(array: T[], rng: Rng): T[] {
  for (let i = array.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [array[i], array[j]] = [array[j], array[i]];
  }
  return array;
}
