// safetensors: writer -> reader round trips for every dtype, a file built byte by byte
// by a small independent encoder, lazy reading, and every validation error.
import { describe, expect, it } from 'vitest';
import { type TensorToWrite, readSafetensors, writeSafetensors } from '../../src/io/safetensors';
import { WeightFileError } from '../../src/io/errors';

// ---------------------------------------------------------------- independent encoder

const le = {
  f32: (xs: number[]) => {
    const b = new Uint8Array(xs.length * 4);
    const v = new DataView(b.buffer);
    xs.forEach((x, i) => v.setFloat32(i * 4, x, true));
    return b;
  },
  u16: (xs: number[]) => {
    const b = new Uint8Array(xs.length * 2);
    const v = new DataView(b.buffer);
    xs.forEach((x, i) => v.setUint16(i * 2, x, true));
    return b;
  },
  i32: (xs: number[]) => {
    const b = new Uint8Array(xs.length * 4);
    const v = new DataView(b.buffer);
    xs.forEach((x, i) => v.setInt32(i * 4, x, true));
    return b;
  },
  i64: (xs: bigint[]) => {
    const b = new Uint8Array(xs.length * 8);
    const v = new DataView(b.buffer);
    xs.forEach((x, i) => v.setBigInt64(i * 8, x, true));
    return b;
  },
};

/** A file from raw header text and data bytes; `len` overrides the u64 header length. */
function rawFile(header: string, data: Uint8Array = new Uint8Array(0), len?: bigint, name = 'hand.safetensors'): File {
  const h = new TextEncoder().encode(header);
  const buf = new Uint8Array(8 + h.length + data.length);
  new DataView(buf.buffer).setBigUint64(0, len ?? BigInt(h.length), true);
  buf.set(h, 8);
  buf.set(data, 8 + h.length);
  return new File([buf], name);
}

interface HandTensor {
  name: string;
  dtype: string;
  shape: number[];
  bytes: Uint8Array;
}

/** Tensors laid out in order, header unpadded (the reader must not need padding). */
function handFile(tensors: HandTensor[], metadata?: Record<string, string>, name?: string): File {
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  let off = 0;
  for (const t of tensors) {
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [off, off + t.bytes.length] };
    off += t.bytes.length;
  }
  const data = new Uint8Array(off);
  off = 0;
  for (const t of tensors) {
    data.set(t.bytes, off);
    off += t.bytes.length;
  }
  return rawFile(JSON.stringify(header), data, undefined, name);
}

async function errorOf(p: Promise<unknown>): Promise<WeightFileError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(WeightFileError);
    return e as WeightFileError;
  }
  throw new Error('expected an error');
}

// ---------------------------------------------------------------- tests

describe('hand-built file', () => {
  it('parses every readable dtype, metadata, and a header written in another key order', async () => {
    const file = handFile(
      [
        { name: 'w', dtype: 'F32', shape: [2, 3], bytes: le.f32([1, -2, 3.5, 0, -0, 1e-40]) },
        { name: 'h', dtype: 'F16', shape: [4], bytes: le.u16([0x3c00, 0xc000, 0x0001, 0x7c00]) },
        { name: 'b', dtype: 'BF16', shape: [3], bytes: le.u16([0x3f80, 0xff80, 0x0001]) },
        { name: 'ids', dtype: 'I64', shape: [1, 3], bytes: le.i64([0n, 1n, -5n]) },
        { name: 'n', dtype: 'I32', shape: [], bytes: le.i32([-7]) },
        { name: 'mask', dtype: 'U8', shape: [2], bytes: new Uint8Array([1, 255]) },
        { name: 'empty', dtype: 'F32', shape: [0, 4], bytes: new Uint8Array(0) },
      ],
      { format: 'pt', note: 'hand made' },
    );
    const st = await readSafetensors(file);
    expect(st.fileName).toBe('hand.safetensors');
    expect(st.names).toEqual(['w', 'h', 'b', 'ids', 'n', 'mask', 'empty']);
    expect(st.metadata).toEqual({ format: 'pt', note: 'hand made' });
    const w = st.get('w');
    expect(w.shape).toEqual([2, 3]);
    expect(w.size).toBe(6);
    expect([...(await w.float32())]).toEqual([1, -2, 3.5, 0, -0, Math.fround(1e-40)]);
    expect([...(await st.get('h').float32())]).toEqual([1, -2, 2 ** -24, Infinity]);
    expect([...(await st.get('b').float32())]).toEqual([1, -Infinity, 2 ** -133]);
    expect([...((await st.get('ids').read()) as BigInt64Array)]).toEqual([0n, 1n, -5n]);
    const n = st.get('n');
    expect(n.shape).toEqual([]);
    expect(n.size).toBe(1);
    expect([...((await n.read()) as Int32Array)]).toEqual([-7]);
    expect([...((await st.get('mask').read()) as Uint8Array)]).toEqual([1, 255]);
    expect((await st.get('empty').float32()).length).toBe(0);
  });

  it('accepts a space-padded header and tensors out of header order', async () => {
    const header = JSON.stringify({
      second: { dtype: 'F32', shape: [1], data_offsets: [4, 8] },
      first: { dtype: 'F32', shape: [1], data_offsets: [0, 4] },
    });
    const st = await readSafetensors(rawFile(header + '       ', le.f32([10, 20])));
    expect(st.names).toEqual(['first', 'second']); // file order
    expect([...(await st.get('second').float32())]).toEqual([20]);
  });

  it('reads only the header until a tensor is asked for, then only that tensor', async () => {
    const big = new Float32Array(100_000).map((_, i) => i);
    const real = writeSafetensors([
      { name: 'a', shape: [100_000], dtype: 'F32', data: big },
      { name: 'b', shape: [2], dtype: 'F32', data: new Float32Array([7, 8]) },
    ]);
    const reads: [number, number][] = [];
    const spy = {
      size: real.size,
      slice: (a?: number, b?: number) => {
        reads.push([a ?? 0, b ?? real.size]);
        return real.slice(a, b);
      },
    } as unknown as Blob;
    const st = await readSafetensors(spy, 'spy.safetensors');
    const headerEnd = 8 + st.headerLength;
    expect(reads.every(([, b]) => b <= headerEnd)).toBe(true);
    reads.length = 0;
    expect([...(await st.get('b').float32())]).toEqual([7, 8]);
    expect(reads).toEqual([[real.size - 8, real.size]]);
  });
});

describe('writer', () => {
  it('round-trips every dtype, incl. special values through F16 and BF16', async () => {
    const special = new Float32Array([0, -0, 1, -1.5, Infinity, -Infinity, NaN, 2 ** -24, 2 ** -14, 65504, 1e-45, 3.4e38]);
    const tensors: TensorToWrite[] = [
      { name: 'f32', shape: [3, 4], dtype: 'F32', data: special },
      { name: 'f16', shape: [12], dtype: 'F16', data: special },
      { name: 'bf16', shape: [2, 6], dtype: 'BF16', data: special },
      { name: 'f16raw', shape: [3], dtype: 'F16', data: new Uint16Array([0x0001, 0x7bff, 0xfc00]) },
      { name: 'bf16raw', shape: [2], dtype: 'BF16', data: new Uint16Array([0x0001, 0x7fc0]) },
      { name: 'i32', shape: [3], dtype: 'I32', data: new Int32Array([-2147483648, 0, 2147483647]) },
      { name: 'i64', shape: [2], dtype: 'I64', data: new BigInt64Array([-(2n ** 63n), 2n ** 40n]) },
      { name: 'u8', shape: [1, 3], dtype: 'U8', data: new Uint8Array([0, 128, 255]) },
      { name: 'scalar', shape: [], dtype: 'F32', data: new Float32Array([42]) },
      { name: 'none', shape: [0], dtype: 'BF16', data: new Float32Array(0) },
    ];
    const blob = writeSafetensors(tensors, { format: 'pt' });
    const st = await readSafetensors(blob, 'rt.safetensors');
    expect(st.names).toEqual(tensors.map((t) => t.name));
    expect(st.metadata).toEqual({ format: 'pt' });
    for (const t of tensors) expect(st.get(t.name).shape).toEqual(t.shape);

    const same = (a: ArrayLike<number>, b: ArrayLike<number>) => expect(Array.from(a, (x, i) => Object.is(x, b[i]))).not.toContain(false);
    same(await st.get('f32').float32(), special);
    same(await st.get('f16').float32(), [0, -0, 1, -1.5, Infinity, -Infinity, NaN, 2 ** -24, 2 ** -14, 65504, 0, Infinity]);
    same(await st.get('bf16').float32(), [0, -0, 1, -1.5, Infinity, -Infinity, NaN, 2 ** -24, 2 ** -14, 65536, 0, Infinity]);
    same(await st.get('f16raw').float32(), [2 ** -24, 65504, -Infinity]);
    const braw = await st.get('bf16raw').float32();
    expect(braw[0]).toBe(2 ** -133);
    expect(braw[1]).toBeNaN();
    expect([...((await st.get('i32').read()) as Int32Array)]).toEqual([-2147483648, 0, 2147483647]);
    expect([...((await st.get('i64').read()) as BigInt64Array)]).toEqual([-(2n ** 63n), 2n ** 40n]);
    expect([...((await st.get('u8').read()) as Uint8Array)]).toEqual([0, 128, 255]);
    expect([...(await st.get('scalar').float32())]).toEqual([42]);
    expect((await st.get('none').float32()).length).toBe(0);
  });

  it('pads the header to 8 bytes with spaces and lays tensors out contiguously in the given order', async () => {
    const blob = writeSafetensors([
      { name: 'z', shape: [3], dtype: 'F16', data: new Float32Array([1, 2, 3]) },
      { name: 'a', shape: [1], dtype: 'F32', data: new Float32Array([5]) },
    ]);
    const bytes = new Uint8Array(await blob.arrayBuffer());
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(n % 8).toBe(0);
    const text = new TextDecoder().decode(bytes.subarray(8, 8 + n));
    expect(text.trimEnd().length).toBeLessThanOrEqual(n);
    expect(/^ *$/.test(text.slice(text.trimEnd().length))).toBe(true);
    const header = JSON.parse(text);
    expect(header.__metadata__).toBeUndefined();
    expect(header.z.data_offsets).toEqual([0, 6]);
    expect(header.a.data_offsets).toEqual([6, 10]);
    expect(bytes.length).toBe(8 + n + 10);
    expect(new DataView(bytes.buffer).getFloat32(8 + n + 6, true)).toBe(5);
  });

  it('writes subarray views from their offset', async () => {
    const base = new Float32Array([9, 9, 1, 2, 9]);
    const st = await readSafetensors(writeSafetensors([{ name: 'v', shape: [2], dtype: 'F32', data: base.subarray(2, 4) }]));
    expect([...(await st.get('v').float32())]).toEqual([1, 2]);
  });

  it('rejects bad input', () => {
    const f = new Float32Array(2);
    expect(() => writeSafetensors([{ name: 'x', shape: [3], dtype: 'F32', data: f }])).toThrow(/"x".*3 elements.*2 values/);
    expect(() => writeSafetensors([{ name: 'x', shape: [2], dtype: 'F32', data: f }, { name: 'x', shape: [2], dtype: 'F32', data: f }])).toThrow(/duplicate.*"x"/);
    expect(() => writeSafetensors([{ name: '__metadata__', shape: [2], dtype: 'F32', data: f }])).toThrow(/reserved/);
    expect(() => writeSafetensors([{ name: 'x', shape: [2], dtype: 'I32', data: f }])).toThrow(/"x".*I32.*Int32Array/);
    expect(() => writeSafetensors([{ name: 'x', shape: [-2], dtype: 'F32', data: f }])).toThrow(/invalid shape/);
  });
});

describe('validation errors name the file and the tensor', () => {
  const ok = { dtype: 'F32', shape: [2], data_offsets: [0, 8] };

  it('file shorter than the length prefix', async () => {
    const e = await errorOf(readSafetensors(new File([new Uint8Array(5)], 'tiny.safetensors')));
    expect(e.message).toMatch(/^tiny\.safetensors: .*5 bytes/);
  });

  it('header length beyond the file', async () => {
    const e = await errorOf(readSafetensors(rawFile('{}', new Uint8Array(0), 1000n, 'cut.safetensors')));
    expect(e.message).toMatch(/^cut\.safetensors: header length 1000 is beyond the end of the file \(10 bytes\)/);
    const huge = await errorOf(readSafetensors(rawFile('{}', new Uint8Array(0), 2n ** 63n)));
    expect(huge.message).toMatch(/beyond the end/);
  });

  it('bad JSON, non-object JSON, bad UTF-8', async () => {
    expect((await errorOf(readSafetensors(rawFile('{"a": ', new Uint8Array(0), undefined, 'bad.safetensors')))).message).toMatch(
      /^bad\.safetensors: header is not valid JSON/,
    );
    expect((await errorOf(readSafetensors(rawFile('[1, 2]')))).message).toMatch(/not an object/);
    const bytes = new Uint8Array([2, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xfe]);
    expect((await errorOf(readSafetensors(new File([bytes], 'x.safetensors')))).message).toMatch(/UTF-8/);
  });

  it('offsets out of range', async () => {
    const header = JSON.stringify({ w: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } });
    const e = await errorOf(readSafetensors(rawFile(header, new Uint8Array(8), undefined, 'short.safetensors')));
    expect(e.message).toMatch(/^short\.safetensors: tensor "w": data_offsets \[0, 16\] run past the end of the data \(8 bytes\)/);
    expect(e.tensorName).toBe('w');
    const neg = JSON.stringify({ w: { dtype: 'F32', shape: [1], data_offsets: [8, 4] } });
    expect((await errorOf(readSafetensors(rawFile(neg, new Uint8Array(8))))).message).toMatch(/"w": "data_offsets" must be \[begin, end\]/);
  });

  it('overlapping tensors', async () => {
    const header = JSON.stringify({ a: ok, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } });
    const e = await errorOf(readSafetensors(rawFile(header, new Uint8Array(12), undefined, 'ov.safetensors')));
    expect(e.message).toMatch(/^ov\.safetensors: tensors "a" \[0, 8\] and "b" \[4, 12\] overlap/);
  });

  it('shape × dtype size different from the byte range', async () => {
    const header = JSON.stringify({ w: { dtype: 'BF16', shape: [2, 3], data_offsets: [0, 8] } });
    const e = await errorOf(readSafetensors(rawFile(header, new Uint8Array(8), undefined, 'sz.safetensors')));
    expect(e.message).toBe('sz.safetensors: tensor "w": shape [2, 3] × BF16 (2 B) = 12 bytes, but data_offsets [0, 8] hold 8');
  });

  it('unknown dtype, bad shape, missing fields, bad metadata', async () => {
    const t = (entry: unknown) => rawFile(JSON.stringify({ w: entry }), new Uint8Array(8));
    expect((await errorOf(readSafetensors(t({ ...ok, dtype: 'F33' })))).message).toMatch(/"w": unknown dtype "F33"/);
    expect((await errorOf(readSafetensors(t({ ...ok, shape: [2.5] })))).message).toMatch(/"w": "shape" must be an array/);
    expect((await errorOf(readSafetensors(t({ shape: [2], data_offsets: [0, 8] })))).message).toMatch(/"w": missing "dtype"/);
    expect((await errorOf(readSafetensors(t(7)))).message).toMatch(/"w": header entry is not an object/);
    const meta = rawFile(JSON.stringify({ __metadata__: { format: 1 }, w: ok }), new Uint8Array(8));
    expect((await errorOf(readSafetensors(meta))).message).toMatch(/"__metadata__" entry "format" is not a string/);
  });

  it('dtypes of the spec that Plantune does not read: the file opens, reading that tensor fails clearly', async () => {
    const file = rawFile(
      JSON.stringify({ d: { dtype: 'F64', shape: [1], data_offsets: [0, 8] }, w: { dtype: 'F32', shape: [1], data_offsets: [8, 12] } }),
      new Uint8Array(12),
      undefined,
      'mixed.safetensors',
    );
    const st = await readSafetensors(file);
    expect([...(await st.get('w').float32())]).toEqual([0]);
    const e = await errorOf(st.get('d').read());
    expect(e.message).toMatch(/^mixed\.safetensors: tensor "d" has dtype F64, which Plantune cannot read/);
    expect(e.tensorName).toBe('d');
  });

  it('float32() of an integer tensor, and an absent tensor', async () => {
    const st = await readSafetensors(writeSafetensors([{ name: 'ids', shape: [1], dtype: 'I32', data: new Int32Array([3]) }]), 'int.safetensors');
    expect((await errorOf(st.get('ids').float32())).message).toMatch(/^int\.safetensors: tensor "ids" has integer dtype I32/);
    expect(() => st.get('nope')).toThrow(/^int\.safetensors: has no tensor "nope" \(it has 1: "ids"\)/);
    expect(st.has('ids')).toBe(true);
    expect(st.has('nope')).toBe(false);
  });
});
