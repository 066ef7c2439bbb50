// safetensors read/write (https://huggingface.co/docs/safetensors): the format that
// Hugging Face `transformers` saves and loads.
//
//   [u64 LE: N] [N bytes: UTF-8 JSON header, padded with spaces] [byte buffer]
//   header = { "__metadata__"?: {string: string},
//              name: { "dtype": "F32", "shape": [d0, d1, ...], "data_offsets": [begin, end] }, ... }
//   offsets are relative to the start of the byte buffer; data is little-endian, row-major.
//
// Reading never loads the whole file: the 8-byte length, then the header, then each
// tensor on demand with `blob.slice` — a 2 GB checkpoint costs the memory of the
// tensors actually read. Works on any Blob: a dropped File, an IndexedDB blob, or a
// downloaded one, in the page, a Web Worker, or Node.
//
// Dtypes: F32, F16 and BF16 are read as f32 (`float32()`); I32, I64 and U8 (position
// ids, masks and other integer buffers some checkpoints carry) are read as
// Int32Array / BigInt64Array / Uint8Array (`read()`). Other dtypes of the spec are
// parsed and validated (their byte size is known) so the rest of the file loads, but
// reading such a tensor throws a clear error; a dtype not in the spec rejects the file.
import {
  decodeBf16,
  decodeF16,
  encodeBf16,
  encodeF16,
  fromLittleEndian,
  toLittleEndianBytes,
} from './dtype';
import { WeightFileError, blobName } from './errors';

export { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16, decodeBf16, decodeF16, encodeBf16, encodeF16 } from './dtype';

/** Dtypes Plantune reads. */
export type SafetensorsDtype = 'F32' | 'F16' | 'BF16' | 'I32' | 'I64' | 'U8';
/** Dtypes whose values are read as f32. */
export type FloatDtype = 'F32' | 'F16' | 'BF16';

/** Bytes per element of every dtype in the safetensors spec (sub-byte types excluded). */
const DTYPE_SIZE: Record<string, number> = {
  BOOL: 1, U8: 1, I8: 1, F8_E5M2: 1, F8_E4M3: 1, F8_E8M0: 1,
  I16: 2, U16: 2, F16: 2, BF16: 2,
  I32: 4, U32: 4, F32: 4,
  I64: 8, U64: 8, F64: 8,
};
const READABLE = new Set<string>(['F32', 'F16', 'BF16', 'I32', 'I64', 'U8']);
const FLOAT = new Set<string>(['F32', 'F16', 'BF16']);

/** Largest header accepted (the reference implementation's limit too). */
const MAX_HEADER_BYTES = 100_000_000;

export type TensorValues = Float32Array | Int32Array | BigInt64Array | Uint8Array;

/** One tensor of a safetensors file; its bytes are read only when asked for. */
export interface LazyTensor {
  readonly name: string;
  /** The dtype as written in the file (may be one Plantune cannot read; see `read`). */
  readonly dtype: string;
  readonly shape: readonly number[];
  /** Number of elements (product of the shape; 1 for a scalar). */
  readonly size: number;
  /** Byte range in the file (absolute, from the start of the file). */
  readonly byteOffset: number;
  readonly byteLength: number;
  /** The file the tensor is in. */
  readonly fileName: string;
  /** The raw little-endian bytes. */
  bytes(): Promise<ArrayBuffer>;
  /** The values: F32/F16/BF16 -> Float32Array, I32 -> Int32Array, I64 -> BigInt64Array, U8 -> Uint8Array. */
  read(): Promise<TensorValues>;
  /** The values as f32 (F32, F16, BF16 only; an integer tensor throws). */
  float32(): Promise<Float32Array>;
}

/** A set of named lazy tensors: one safetensors file, or a sharded checkpoint. */
export interface WeightSource {
  /** Tensor names, in file order. */
  readonly names: readonly string[];
  has(name: string): boolean;
  /** The tensor, or a clear error naming the files searched. */
  get(name: string): LazyTensor;
  /** `__metadata__` (for a sharded checkpoint: the first shard's). */
  readonly metadata: Readonly<Record<string, string>>;
}

export interface SafetensorsFile extends WeightSource {
  readonly fileName: string;
  readonly tensors: ReadonlyMap<string, LazyTensor>;
  /** Byte length of the JSON header (without the 8-byte length prefix). */
  readonly headerLength: number;
}

// ------------------------------------------------------------------------- reader

function product(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

function isNonNegInt(x: unknown): x is number {
  return typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
}

function makeLazyTensor(blob: Blob, fileName: string, name: string, dtype: string, shape: number[], byteOffset: number, byteLength: number): LazyTensor {
  const bytes = async (): Promise<ArrayBuffer> => {
    const buf = await blob.slice(byteOffset, byteOffset + byteLength).arrayBuffer();
    if (buf.byteLength !== byteLength) {
      throw new WeightFileError(fileName, `tensor "${name}": read ${buf.byteLength} bytes, expected ${byteLength} (file changed or truncated?)`, name);
    }
    return buf;
  };
  const unreadable = () =>
    new WeightFileError(
      fileName,
      `tensor "${name}" has dtype ${dtype}, which Plantune cannot read (it reads F32, F16, BF16 as floats and I32, I64, U8 as integers)`,
      name,
    );
  const read = async (): Promise<TensorValues> => {
    if (!READABLE.has(dtype)) throw unreadable();
    const buf = await bytes();
    switch (dtype) {
      case 'F32':
        return new Float32Array(fromLittleEndian(buf, 4));
      case 'F16':
        return decodeF16(new Uint16Array(fromLittleEndian(buf, 2)));
      case 'BF16':
        return decodeBf16(new Uint16Array(fromLittleEndian(buf, 2)));
      case 'I32':
        return new Int32Array(fromLittleEndian(buf, 4));
      case 'I64':
        return new BigInt64Array(fromLittleEndian(buf, 8));
      default:
        return new Uint8Array(buf);
    }
  };
  const float32 = async (): Promise<Float32Array> => {
    if (!FLOAT.has(dtype)) {
      if (!READABLE.has(dtype)) throw unreadable();
      throw new WeightFileError(fileName, `tensor "${name}" has integer dtype ${dtype}; expected a float tensor (F32, F16 or BF16)`, name);
    }
    return (await read()) as Float32Array;
  };
  return { name, dtype, shape, size: product(shape), byteOffset, byteLength, fileName, bytes, read, float32 };
}

/**
 * Parses a safetensors file's header and returns lazy tensors over the Blob.
 * Validates everything that can be checked without reading tensor data: header
 * length within the file, JSON syntax, every entry's dtype/shape/offsets, offsets
 * inside the file, no two tensors overlapping, and shape × dtype size = byte range.
 * @param fileName used in error messages (default: the File's name).
 */
export async function readSafetensors(blob: Blob, fileName = blobName(blob, 'model.safetensors')): Promise<SafetensorsFile> {
  const fail = (msg: string, tensor?: string): never => {
    throw new WeightFileError(fileName, msg, tensor);
  };
  if (blob.size < 8) fail(`not a safetensors file: ${blob.size} bytes, shorter than the 8-byte header length`);
  const lenBuf = await blob.slice(0, 8).arrayBuffer();
  const n64 = new DataView(lenBuf).getBigUint64(0, true);
  if (n64 > BigInt(blob.size - 8)) {
    fail(`header length ${n64} is beyond the end of the file (${blob.size} bytes): truncated, or not a safetensors file`);
  }
  const n = Number(n64);
  if (n > MAX_HEADER_BYTES) fail(`header length ${n} exceeds the ${MAX_HEADER_BYTES}-byte limit: not a safetensors file?`);
  if (n < 2) fail(`header length ${n} is too small to hold a JSON object: not a safetensors file?`);
  const headerBytes = new Uint8Array(await blob.slice(8, 8 + n).arrayBuffer());

  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(headerBytes);
  } catch {
    return fail('header is not valid UTF-8: not a safetensors file?');
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    return fail(`header is not valid JSON (${(e as Error).message}): truncated or not a safetensors file?`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    return fail('header JSON is not an object');
  }

  const dataStart = 8 + n;
  const dataLength = blob.size - dataStart;
  const metadata: Record<string, string> = {};
  const entries: { name: string; dtype: string; shape: number[]; begin: number; end: number }[] = [];

  for (const [name, value] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) fail('"__metadata__" is not a string-to-string map');
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        if (typeof v !== 'string') fail(`"__metadata__" entry "${k}" is not a string`);
        metadata[k] = v as string;
      }
      continue;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(`tensor "${name}": header entry is not an object`, name);
    const { dtype, shape, data_offsets: offsets } = value as Record<string, unknown>;
    if (typeof dtype !== 'string') return fail(`tensor "${name}": missing "dtype"`, name);
    const itemSize = DTYPE_SIZE[dtype];
    if (itemSize === undefined) fail(`tensor "${name}": unknown dtype "${dtype}"`, name);
    if (!Array.isArray(shape) || !shape.every(isNonNegInt)) {
      return fail(`tensor "${name}": "shape" must be an array of non-negative integers, got ${JSON.stringify(shape)}`, name);
    }
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isNonNegInt) || offsets[0] > offsets[1]) {
      return fail(`tensor "${name}": "data_offsets" must be [begin, end] with 0 <= begin <= end, got ${JSON.stringify(offsets)}`, name);
    }
    const [begin, end] = offsets as [number, number];
    if (end > dataLength) {
      fail(`tensor "${name}": data_offsets [${begin}, ${end}] run past the end of the data (${dataLength} bytes): file truncated?`, name);
    }
    const expected = product(shape) * itemSize;
    if (end - begin !== expected) {
      fail(
        `tensor "${name}": shape [${shape.join(', ')}] × ${dtype} (${itemSize} B) = ${expected} bytes, but data_offsets [${begin}, ${end}] hold ${end - begin}`,
        name,
      );
    }
    entries.push({ name, dtype, shape: shape.slice(), begin, end });
  }

  // No overlaps: sorted by start, each tensor must begin at or after the previous end.
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1];
    const cur = sorted[i];
    if (cur.begin < prev.end) {
      fail(`tensors "${prev.name}" [${prev.begin}, ${prev.end}] and "${cur.name}" [${cur.begin}, ${cur.end}] overlap`, cur.name);
    }
  }

  const tensors = new Map<string, LazyTensor>();
  for (const e of entries) {
    tensors.set(e.name, makeLazyTensor(blob, fileName, e.name, e.dtype, e.shape, dataStart + e.begin, e.end - e.begin));
  }
  const names = sorted.map((e) => e.name); // file order
  return {
    fileName,
    tensors,
    names,
    metadata,
    headerLength: n,
    has: (name) => tensors.has(name),
    get: (name) => {
      const t = tensors.get(name);
      if (!t) throw new WeightFileError(fileName, `has no tensor "${name}" (it has ${tensors.size}: ${preview(names)})`, name);
      return t;
    },
  };
}

/** First few names, for error messages. */
export function preview(names: readonly string[], max = 5): string {
  const shown = names.slice(0, max).map((s) => `"${s}"`).join(', ');
  return names.length > max ? `${shown}, … (${names.length - max} more)` : shown || '(none)';
}

// ------------------------------------------------------------------------- writer

export type WritableDtype = SafetensorsDtype;

export interface TensorToWrite {
  name: string;
  shape: readonly number[];
  dtype: WritableDtype;
  /**
   * F32: Float32Array. F16/BF16: Float32Array (converted, round to nearest-even) or
   * Uint16Array (taken as the raw half bits). I32: Int32Array; I64: BigInt64Array; U8: Uint8Array.
   */
  data: Float32Array | Uint16Array | Int32Array | BigInt64Array | Uint8Array;
}

function encodeTensor(t: TensorToWrite): Uint8Array<ArrayBuffer> {
  const bad = (want: string) =>
    new Error(`writeSafetensors: tensor "${t.name}" has dtype ${t.dtype} but data is a ${t.data.constructor.name}; expected ${want}`);
  switch (t.dtype) {
    case 'F32':
      if (!(t.data instanceof Float32Array)) throw bad('Float32Array');
      return toLittleEndianBytes(t.data);
    case 'F16':
    case 'BF16':
      if (t.data instanceof Uint16Array) return toLittleEndianBytes(t.data);
      if (!(t.data instanceof Float32Array)) throw bad('Float32Array or Uint16Array (raw bits)');
      return toLittleEndianBytes(t.dtype === 'F16' ? encodeF16(t.data) : encodeBf16(t.data));
    case 'I32':
      if (!(t.data instanceof Int32Array)) throw bad('Int32Array');
      return toLittleEndianBytes(t.data);
    case 'I64':
      if (!(t.data instanceof BigInt64Array)) throw bad('BigInt64Array');
      return toLittleEndianBytes(t.data);
    case 'U8':
      if (!(t.data instanceof Uint8Array)) throw bad('Uint8Array');
      return toLittleEndianBytes(t.data);
    default:
      throw new Error(`writeSafetensors: tensor "${t.name}": cannot write dtype ${String((t as TensorToWrite).dtype)}`);
  }
}

/**
 * Writes tensors as a safetensors Blob, in the given order, contiguous, with the
 * header padded with spaces to a multiple of 8 bytes (so every tensor starts 8-byte
 * aligned, as the reference writer does). `metadata` becomes `__metadata__`
 * (transformers expects `{ format: 'pt' }` there; callers add it).
 */
export function writeSafetensors(tensors: readonly TensorToWrite[], metadata?: Record<string, string>): Blob {
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length > 0) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new Error(`writeSafetensors: metadata "${k}" must be a string, got ${typeof v}`);
    }
    header.__metadata__ = { ...metadata };
  }
  const parts: Uint8Array<ArrayBuffer>[] = [];
  let offset = 0;
  for (const t of tensors) {
    if (t.name === '__metadata__') throw new Error('writeSafetensors: "__metadata__" is reserved and cannot be a tensor name');
    if (Object.prototype.hasOwnProperty.call(header, t.name)) throw new Error(`writeSafetensors: duplicate tensor name "${t.name}"`);
    if (!t.shape.every((d) => isNonNegInt(d))) throw new Error(`writeSafetensors: tensor "${t.name}" has an invalid shape [${t.shape.join(', ')}]`);
    const n = product(t.shape);
    if (t.data.length !== n) {
      throw new Error(`writeSafetensors: tensor "${t.name}" has shape [${t.shape.join(', ')}] (${n} elements) but ${t.data.length} values`);
    }
    const bytes = encodeTensor(t);
    header[t.name] = { dtype: t.dtype, shape: [...t.shape], data_offsets: [offset, offset + bytes.byteLength] };
    parts.push(bytes);
    offset += bytes.byteLength;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  const head = new Uint8Array(8 + padded);
  new DataView(head.buffer).setBigUint64(0, BigInt(padded), true);
  head.set(json, 8);
  head.fill(0x20, 8 + json.length); // pad with spaces: still valid JSON
  return new Blob([head, ...parts]);
}
