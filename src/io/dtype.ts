// Half-precision conversions (IEEE binary16 "F16" and bfloat16 "BF16") to and from
// f32, and little-endian byte views. All conversions are exact where the target can
// represent the value, round to nearest-even otherwise, and keep the special values:
// ±0, subnormals (both directions), ±inf, and NaN (always returned as a quiet NaN
// of the same sign; the payload's top bits are kept where they fit).
//
// Weight files are little-endian. Every platform a browser runs on is little-endian
// too, so typed arrays are used directly; on a big-endian host the bytes are
// swapped element by element (`HOST_LE` below).

export const HOST_LE = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

// ---------------------------------------------------------------- scalar helpers

const scratchF32 = new Float32Array(1);
const scratchU32 = new Uint32Array(scratchF32.buffer);

/** The bit pattern of `x` rounded to f32. */
export function f32Bits(x: number): number {
  scratchF32[0] = x;
  return scratchU32[0];
}

/** The f32 with bit pattern `bits`. */
export function f32FromBits(bits: number): number {
  scratchU32[0] = bits >>> 0;
  return scratchF32[0];
}

/** binary16 bits (0..65535) -> f32 bit pattern. */
function f16BitsToF32Bits(h: number): number {
  const sign = (h & 0x8000) << 16;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0x1f) return (sign | 0x7f800000 | (mant << 13)) >>> 0; // inf, or NaN keeping its payload
  if (exp !== 0) return (sign | ((exp + 112) << 23) | (mant << 13)) >>> 0; // normal: rebias 15 -> 127
  if (mant === 0) return sign >>> 0; // ±0
  // Subnormal: mant * 2^-24; normalise it into an f32 normal.
  let e = 113; // f32 biased exponent of 2^-14
  let m = mant;
  while ((m & 0x400) === 0) {
    m <<= 1;
    e--;
  }
  return (sign | (e << 23) | ((m & 0x3ff) << 13)) >>> 0;
}

let f16Table: Float32Array | null = null;

/** All 65536 binary16 values as f32 (256 KiB, built on first use). */
function f16ToF32Table(): Float32Array {
  if (f16Table) return f16Table;
  const bits = new Uint32Array(65536);
  for (let h = 0; h < 65536; h++) bits[h] = f16BitsToF32Bits(h);
  f16Table = new Float32Array(bits.buffer);
  return f16Table;
}

/** binary16 bits -> number. */
export function f16ToF32(h: number): number {
  return f16ToF32Table()[h & 0xffff];
}

/** bfloat16 bits -> number (bf16 is the top half of an f32, so this is exact). */
export function bf16ToF32(b: number): number {
  return f32FromBits((b & 0xffff) << 16);
}

/** f32 bit pattern -> binary16 bits, round to nearest-even, overflow to ±inf. */
function f32BitsToF16Bits(x: number): number {
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (exp === 0xff) return mant === 0 ? sign | 0x7c00 : sign | 0x7e00 | (mant >>> 13); // inf / quiet NaN
  const e = exp - 112; // binary16 biased exponent
  if (e >= 0x1f) return sign | 0x7c00; // too large: ±inf
  if (e <= 0) {
    // Result is a binary16 subnormal (units of 2^-24) or zero. The f32 value is
    // m * 2^(exp-150) with the implicit bit; f32 subnormals (exp 0) are far below
    // 2^-25 and round to zero here.
    if (e < -10) return sign;
    const m = mant | 0x800000;
    const shift = 14 - e; // 14..24
    let h = m >>> shift;
    const rem = m & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rem > halfway || (rem === halfway && (h & 1) === 1)) h++; // may carry into the smallest normal: correct
    return sign | h;
  }
  let h = sign | (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (h & 1) === 1)) h++; // a carry into the exponent is correct, up to inf
  return h;
}

/** number -> binary16 bits (the number is first rounded to f32, as a Float32Array would). */
export function f32ToF16(x: number): number {
  return f32BitsToF16Bits(f32Bits(x));
}

/** f32 bit pattern -> bfloat16 bits, round to nearest-even, NaN kept quiet. */
function f32BitsToBf16Bits(x: number): number {
  if ((x & 0x7f800000) === 0x7f800000 && (x & 0x7fffff) !== 0) return ((x >>> 16) | 0x40) & 0xffff; // quiet NaN
  return ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
}

/** number -> bfloat16 bits (the number is first rounded to f32). */
export function f32ToBf16(x: number): number {
  return f32BitsToBf16Bits(f32Bits(x));
}

// ---------------------------------------------------------------- array helpers

/** Little-endian binary16 bits -> f32 values. */
export function decodeF16(bits: Uint16Array): Float32Array {
  const table = f16ToF32Table();
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = table[bits[i]];
  return out;
}

/** bfloat16 bits -> f32 values. */
export function decodeBf16(bits: Uint16Array): Float32Array {
  const out = new Uint32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = bits[i] << 16;
  return new Float32Array(out.buffer);
}

/** f32 values -> binary16 bits. */
export function encodeF16(values: Float32Array): Uint16Array {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = f32BitsToF16Bits(bits[i]);
  return out;
}

/** f32 values -> bfloat16 bits. */
export function encodeBf16(values: Float32Array): Uint16Array {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = f32BitsToBf16Bits(bits[i]);
  return out;
}

// ---------------------------------------------------------------- byte order

type Numeric = Float32Array | Int32Array | Uint32Array | Uint16Array | Int16Array | BigInt64Array | Uint8Array | Int8Array;

/** Byte size of one element of a typed array. */
function elementSize(a: Numeric): number {
  return a.BYTES_PER_ELEMENT;
}

/** The little-endian bytes of a typed array (a view, no copy, on little-endian hosts). */
export function toLittleEndianBytes(a: Numeric): Uint8Array<ArrayBuffer> {
  const size = elementSize(a);
  if (HOST_LE || size === 1) {
    if (a.buffer instanceof ArrayBuffer) return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    return new Uint8Array(new Uint8Array(a.buffer, a.byteOffset, a.byteLength)); // copy out of a SharedArrayBuffer
  }
  const src = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const out = new Uint8Array(a.byteLength);
  for (let i = 0; i < a.byteLength; i += size) for (let j = 0; j < size; j++) out[i + j] = src[i + size - 1 - j];
  return out;
}

/** Swap each `size`-byte element of `buf` in place if the host is big-endian; returns `buf`. */
export function fromLittleEndian(buf: ArrayBuffer, size: number): ArrayBuffer {
  if (HOST_LE || size === 1) return buf;
  const b = new Uint8Array(buf);
  for (let i = 0; i + size <= b.length; i += size) b.subarray(i, i + size).reverse();
  return buf;
}
