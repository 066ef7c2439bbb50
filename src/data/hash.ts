// Small synchronous string hashes (no crypto.subtle: it is async and absent from some workers).
// Not cryptographic; 64 bits keep accidental collisions negligible for datasets of millions of rows.

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** Final avalanche step: every input bit affects every output bit. */
function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Two independent 32-bit lanes over the UTF-16 code units of `text`. */
function lanes(text: string, seed: number): [number, number] {
  let a = (FNV_OFFSET ^ seed) >>> 0;
  let b = (0x9e3779b9 ^ Math.imul(seed, 0x27d4eb2f)) >>> 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, FNV_PRIME);
    b = Math.imul(b ^ c, 0x5bd1e995);
  }
  const hi = mix32(a ^ Math.imul(b, 0x9e3779b1) ^ text.length);
  const lo = mix32(b ^ Math.imul(hi, 0x85ebca77));
  return [hi, lo];
}

/** 64-bit hash of `text` as 16 lowercase hex digits. */
export function hash64(text: string, seed = 0): string {
  const [hi, lo] = lanes(text, seed);
  return hi.toString(16).padStart(8, '0') + lo.toString(16).padStart(8, '0');
}

/** Hash of `text` mapped uniformly to [0, 1); a different `seed` gives an independent ordering. */
export function hashUnit(text: string, seed: number): number {
  const [hi, lo] = lanes(text, seed);
  return (hi * 2 ** 21 + (lo >>> 11)) / 2 ** 53;
}
