// llama2.c checkpoints: tiny files of both header versions written byte by byte in
// the test from known arrays, read back into HF names; shared/unshared classifier;
// header and size errors; and the q/k RoPE permutation checked as a property.
import { describe, expect, it } from 'vitest';
import { halfToInterleavedRows, interleavedToHalfRows, readLlama2c } from '../../src/io/llama2c';
import { WeightFileError } from '../../src/io/errors';
import { rng, randArray } from '../helpers/random';

interface P {
  dim: number;
  hiddenDim: number;
  nLayers: number;
  nHeads: number;
  nKvHeads: number;
  vocabSize: number;
  seqLen: number;
}

/** Random weights in llama2.c's own layout (all layers of one kind in one array). */
function makeWeights(p: P, seed: number) {
  const r = rng(seed);
  const hs = p.dim / p.nHeads;
  const kv = p.nKvHeads * hs;
  const L = p.nLayers;
  return {
    emb: randArray(r, p.vocabSize * p.dim),
    rmsAtt: randArray(r, L * p.dim),
    wq: randArray(r, L * p.dim * p.dim),
    wk: randArray(r, L * kv * p.dim),
    wv: randArray(r, L * kv * p.dim),
    wo: randArray(r, L * p.dim * p.dim),
    rmsFfn: randArray(r, L * p.dim),
    w1: randArray(r, L * p.hiddenDim * p.dim),
    w2: randArray(r, L * p.dim * p.hiddenDim),
    w3: randArray(r, L * p.hiddenDim * p.dim),
    rmsFinal: randArray(r, p.dim),
    freq: randArray(r, p.seqLen * hs), // freq_cis_real + freq_cis_imag, seq_len·hs/2 each
    wcls: randArray(r, p.vocabSize * p.dim),
  };
}
type W = ReturnType<typeof makeWeights>;

function pack(headerBytes: number, writeHeader: (v: DataView) => void, arrays: Float32Array[]): Uint8Array<ArrayBuffer> {
  const n = arrays.reduce((s, a) => s + a.length, 0);
  const buf = new Uint8Array(headerBytes + 4 * n);
  const v = new DataView(buf.buffer);
  writeHeader(v);
  let off = headerBytes;
  for (const a of arrays) for (const x of a) {
    v.setFloat32(off, x, true);
    off += 4;
  }
  return buf;
}

const ints = (p: P, vocab: number) => [p.dim, p.hiddenDim, p.nLayers, p.nHeads, p.nKvHeads, vocab, p.seqLen];

function legacyFile(p: P, w: W, shared: boolean): Uint8Array<ArrayBuffer> {
  const order = [w.emb, w.rmsAtt, w.wq, w.wk, w.wv, w.wo, w.rmsFfn, w.w1, w.w2, w.w3, w.rmsFinal, w.freq];
  if (!shared) order.push(w.wcls);
  return pack(28, (v) => ints(p, shared ? p.vocabSize : -p.vocabSize).forEach((x, i) => v.setInt32(4 * i, x, true)), order);
}

function v1File(p: P, w: W, shared: boolean, version = 1, magic = 0x616b3432): Uint8Array<ArrayBuffer> {
  const order = [w.rmsAtt, w.rmsFfn, w.rmsFinal, w.emb, w.wq, w.wk, w.wv, w.wo, w.w1, w.w2, w.w3];
  if (!shared) order.push(w.wcls);
  return pack(
    256,
    (v) => {
      v.setUint32(0, magic, true);
      v.setInt32(4, version, true);
      ints(p, p.vocabSize).forEach((x, i) => v.setInt32(8 + 4 * i, x, true));
      v.setUint8(36, shared ? 1 : 0);
    },
    order,
  );
}

/** HF's permute: w.view(heads, rows/heads/2, 2, cols).transpose(1, 2).reshape(rows, cols). */
function refPermute(w: Float32Array, heads: number, rows: number, cols: number): Float32Array {
  const half = rows / heads / 2;
  const out = new Float32Array(w.length);
  // out[h][a][p][c] = in[h][p][a][c]
  for (let h = 0; h < heads; h++)
    for (let a = 0; a < 2; a++)
      for (let p = 0; p < half; p++)
        for (let c = 0; c < cols; c++) out[((h * 2 + a) * half + p) * cols + c] = w[((h * half + p) * 2 + a) * cols + c];
  return out;
}

const P0: P = { dim: 12, hiddenDim: 20, nLayers: 2, nHeads: 2, nKvHeads: 1, vocabSize: 10, seqLen: 6 }; // head size 6: the permutation is not an involution

function layerSlice(a: Float32Array, l: number, L: number): number[] {
  const n = a.length / L;
  return [...a.subarray(l * n, (l + 1) * n)];
}

async function checkRead(bytes: Uint8Array<ArrayBuffer>, p: P, w: W, shared: boolean, version: 0 | 1) {
  const ck = await readLlama2c(new File([bytes], 'tiny.bin'), { permuteRope: false });
  expect(ck.version).toBe(version);
  expect(ck.fileName).toBe('tiny.bin');
  expect(ck.params).toEqual(p);
  expect(ck.sharedClassifier).toBe(shared);
  expect(ck.ropePermuted).toBe(false);
  const hs = p.dim / p.nHeads;
  const kv = p.nKvHeads * hs;
  const t = (name: string) => {
    const x = ck.tensors.get(name);
    if (!x) throw new Error(`missing ${name}`);
    return x;
  };
  const eq = (name: string, shape: number[], values: number[]) => {
    expect(t(name).shape, name).toEqual(shape);
    expect([...t(name).data], name).toEqual(values);
  };
  eq('model.embed_tokens.weight', [p.vocabSize, p.dim], [...w.emb]);
  eq('model.norm.weight', [p.dim], [...w.rmsFinal]);
  for (let l = 0; l < p.nLayers; l++) {
    const L = p.nLayers;
    const pre = `model.layers.${l}`;
    eq(`${pre}.input_layernorm.weight`, [p.dim], layerSlice(w.rmsAtt, l, L));
    eq(`${pre}.post_attention_layernorm.weight`, [p.dim], layerSlice(w.rmsFfn, l, L));
    eq(`${pre}.self_attn.q_proj.weight`, [p.dim, p.dim], layerSlice(w.wq, l, L));
    eq(`${pre}.self_attn.k_proj.weight`, [kv, p.dim], layerSlice(w.wk, l, L));
    eq(`${pre}.self_attn.v_proj.weight`, [kv, p.dim], layerSlice(w.wv, l, L));
    eq(`${pre}.self_attn.o_proj.weight`, [p.dim, p.dim], layerSlice(w.wo, l, L));
    eq(`${pre}.mlp.gate_proj.weight`, [p.hiddenDim, p.dim], layerSlice(w.w1, l, L));
    eq(`${pre}.mlp.down_proj.weight`, [p.dim, p.hiddenDim], layerSlice(w.w2, l, L));
    eq(`${pre}.mlp.up_proj.weight`, [p.hiddenDim, p.dim], layerSlice(w.w3, l, L));
  }
  if (shared) expect(ck.tensors.has('lm_head.weight')).toBe(false);
  else eq('lm_head.weight', [p.vocabSize, p.dim], [...w.wcls]);
  expect(ck.tensors.size).toBe(2 + 9 * p.nLayers + (shared ? 0 : 1));
  expect(ck.config).toMatchObject({
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    hidden_size: p.dim,
    intermediate_size: p.hiddenDim,
    num_hidden_layers: p.nLayers,
    num_attention_heads: p.nHeads,
    num_key_value_heads: p.nKvHeads,
    vocab_size: p.vocabSize,
    max_position_embeddings: p.seqLen,
    tie_word_embeddings: shared,
    hidden_act: 'silu',
    rms_norm_eps: 1e-5,
    rope_theta: 10000,
  });
}

describe('readLlama2c', () => {
  const w = makeWeights(P0, 1);
  for (const shared of [true, false]) {
    it(`legacy header, ${shared ? 'shared' : 'unshared (negative vocab_size)'} classifier`, async () => {
      await checkRead(legacyFile(P0, w, shared), P0, w, shared, 0);
    });
    it(`version 1 header, ${shared ? 'shared' : 'unshared'} classifier`, async () => {
      await checkRead(v1File(P0, w, shared), P0, w, shared, 1);
    });
  }

  it('multi-head attention without GQA, one layer', async () => {
    const p: P = { dim: 12, hiddenDim: 20, nLayers: 1, nHeads: 3, nKvHeads: 3, vocabSize: 7, seqLen: 4 };
    const w1 = makeWeights(p, 2);
    await checkRead(legacyFile(p, w1, true), p, w1, true, 0);
    await checkRead(v1File(p, w1, false), p, w1, false, 1);
  });

  it('permutes q/k rows to HF order by default (and nothing else)', async () => {
    const ck = await readLlama2c(new Blob([v1File(P0, w, true)]));
    expect(ck.ropePermuted).toBe(true);
    const hs = P0.dim / P0.nHeads;
    for (let l = 0; l < P0.nLayers; l++) {
      const q = new Float32Array(layerSlice(w.wq, l, P0.nLayers));
      const k = new Float32Array(layerSlice(w.wk, l, P0.nLayers));
      expect([...ck.tensors.get(`model.layers.${l}.self_attn.q_proj.weight`)!.data]).toEqual([...refPermute(q, P0.nHeads, P0.dim, P0.dim)]);
      expect([...ck.tensors.get(`model.layers.${l}.self_attn.k_proj.weight`)!.data]).toEqual([...refPermute(k, P0.nKvHeads, P0.nKvHeads * hs, P0.dim)]);
      expect([...ck.tensors.get(`model.layers.${l}.self_attn.v_proj.weight`)!.data]).toEqual(layerSlice(w.wv, l, P0.nLayers));
    }
  });

  it('truncated file: expected N bytes from the header, got M', async () => {
    for (const [bytes, name] of [
      [legacyFile(P0, w, false), 'legacy.bin'],
      [v1File(P0, w, true), 'v1.bin'],
    ] as const) {
      const cut = new File([bytes.subarray(0, bytes.length - 4)], name);
      const e = await readLlama2c(cut).catch((x) => x);
      expect(e).toBeInstanceOf(WeightFileError);
      expect(e.message).toMatch(new RegExp(`^${name.replace('.', '\\.')}: truncated llama2\\.c checkpoint: expected ${bytes.length} bytes from the .* header \\(dim=12, .*\\), got ${bytes.length - 4}`));
    }
    // A legacy file read as if shared while it carries a classifier: the sizes disagree.
    const extra = new File([legacyFile(P0, w, true), new Uint8Array(8)], 'extra.bin');
    await expect(readLlama2c(extra)).rejects.toThrow(/^extra\.bin: llama2\.c legacy header .* implies \d+ bytes, but the file has \d+/);
    await expect(readLlama2c(new File([new Uint8Array(10)], 'short.bin'))).rejects.toThrow(/^short\.bin: not a llama2\.c checkpoint: 10 bytes/);
    const v1head = v1File(P0, w, true).subarray(0, 100);
    await expect(readLlama2c(new File([v1head], 'head.bin'))).rejects.toThrow(/^head\.bin: truncated llama2\.c file: the versioned header needs 256 bytes, got 100/);
  });

  it('wrong version, quantised version 2, bad header values', async () => {
    await expect(readLlama2c(new File([v1File(P0, w, true, 2)], 'q80.bin'))).rejects.toThrow(/^q80\.bin: llama2\.c version 2 \(int8-quantised, Q8_0\) checkpoints are not supported/);
    await expect(readLlama2c(new File([v1File(P0, w, true, 7)], 'v7.bin'))).rejects.toThrow(/^v7\.bin: unknown llama2\.c checkpoint version 7/);
    // Wrong magic: read as a legacy header, whose numbers make no sense.
    await expect(readLlama2c(new File([v1File(P0, w, true, 1, 0x12345678)], 'magic.bin'))).rejects.toThrow(/^magic\.bin: not a llama2\.c checkpoint \(legacy header: /);
    const badHeads: P = { ...P0, nHeads: 5, nKvHeads: 5 };
    await expect(readLlama2c(new File([legacyFile(badHeads, w, true)], 'h.bin'))).rejects.toThrow(/dim is not a multiple of n_heads/);
    const badKv: P = { ...P0, nHeads: 4, nKvHeads: 3 };
    await expect(readLlama2c(new File([legacyFile(badKv, w, true)], 'kv.bin'))).rejects.toThrow(/n_heads is not a multiple of n_kv_heads/);
    const flag = v1File(P0, w, true);
    flag[36] = 5;
    await expect(readLlama2c(new File([flag], 'f.bin'))).rejects.toThrow(/shared_classifier byte is 5/);
  });
});

// ------------------------------------------------------------------ RoPE property

/** llama2.c run.c RoPE: adjacent pairs (2p, 2p+1) of each head. */
function ropeInterleaved(v: Float64Array, pos: number, hs: number): Float64Array {
  const out = Float64Array.from(v);
  for (let i = 0; i < v.length; i += 2) {
    const theta = pos * 10000 ** (-(i % hs) / hs);
    const c = Math.cos(theta);
    const s = Math.sin(theta);
    out[i] = v[i] * c - v[i + 1] * s;
    out[i + 1] = v[i] * s + v[i + 1] * c;
  }
  return out;
}

/** HF rotate_half RoPE: x*cos + rotate_half(x)*sin, pairs (p, p + hs/2) of each head. */
function ropeRotateHalf(v: Float64Array, pos: number, hs: number): Float64Array {
  const out = new Float64Array(v.length);
  const half = hs / 2;
  for (let h = 0; h < v.length / hs; h++) {
    for (let j = 0; j < hs; j++) {
      const p = j % half;
      const theta = pos * 10000 ** (-(2 * p) / hs);
      const rot = j < half ? -v[h * hs + j + half] : v[h * hs + j - half];
      out[h * hs + j] = v[h * hs + j] * Math.cos(theta) + rot * Math.sin(theta);
    }
  }
  return out;
}

function matVec(w: Float32Array, x: Float64Array, rows: number): Float64Array {
  const cols = x.length;
  const out = new Float64Array(rows);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[r] += w[r * cols + c] * x[c];
  return out;
}

/** Attention scores of every query head against its (GQA) key head. */
function scores(q: Float64Array, k: Float64Array, nHeads: number, nKv: number, hs: number): number[] {
  const out: number[] = [];
  for (let h = 0; h < nHeads; h++) {
    const kh = Math.floor(h / (nHeads / nKv));
    let s = 0;
    for (let j = 0; j < hs; j++) s += q[h * hs + j] * k[kh * hs + j];
    out.push(s);
  }
  return out;
}

describe('q/k RoPE permutation', () => {
  it('un-permute after permute is the identity, both ways, on random shapes', () => {
    const r = rng(5);
    for (let t = 0; t < 20; t++) {
      const heads = 1 + Math.floor(r() * 4);
      const hs = 2 * (1 + Math.floor(r() * 5));
      const cols = 1 + Math.floor(r() * 7);
      const w = randArray(r, heads * hs * cols);
      const fwd = interleavedToHalfRows(w, heads, heads * hs, cols);
      expect([...fwd]).toEqual([...refPermute(w, heads, heads * hs, cols)]);
      expect([...halfToInterleavedRows(fwd, heads, heads * hs, cols)]).toEqual([...w]);
      expect([...interleavedToHalfRows(halfToInterleavedRows(w, heads, heads * hs, cols), heads, heads * hs, cols)]).toEqual([...w]);
    }
    expect(() => interleavedToHalfRows(new Float32Array(6), 1, 3, 2)).toThrow(/head size 3 is odd/);
    expect(() => interleavedToHalfRows(new Float32Array(8), 3, 4, 2)).toThrow(/do not split into 3 heads/);
  });

  it('HF rotate-half RoPE on the imported (permuted) weights computes what run.c computes on the original', async () => {
    // GQA: 4 query heads of size 6 sharing 2 key heads.
    const p: P = { dim: 24, hiddenDim: 8, nLayers: 1, nHeads: 4, nKvHeads: 2, vocabSize: 5, seqLen: 16 };
    const hs = p.dim / p.nHeads;
    const kvDim = p.nKvHeads * hs;
    const w = makeWeights(p, 9);
    const ck = await readLlama2c(new Blob([legacyFile(p, w, true)])); // permuted (default)
    const wqHF = ck.tensors.get('model.layers.0.self_attn.q_proj.weight')!.data;
    const wkHF = ck.tensors.get('model.layers.0.self_attn.k_proj.weight')!.data;
    const r = rng(10);
    for (const [posQ, posK] of [[0, 0], [3, 1], [15, 7], [9, 9]]) {
      const x = Float64Array.from(randArray(r, p.dim));
      const y = Float64Array.from(randArray(r, p.dim));
      const qC = ropeInterleaved(matVec(w.wq, x, p.dim), posQ, hs); // run.c on the file's weights
      const kC = ropeInterleaved(matVec(w.wk, y, kvDim), posK, hs);
      const qH = ropeRotateHalf(matVec(wqHF, x, p.dim), posQ, hs); // HF on the imported weights
      const kH = ropeRotateHalf(matVec(wkHF, y, kvDim), posK, hs);
      // Rotated vectors are the same up to the same per-head row permutation...
      const perm = (v: Float64Array, heads: number) => Float64Array.from(interleavedToHalfRows(Float32Array.from(v), heads, v.length, 1));
      expect(qH).toAllClose(perm(qC, p.nHeads), { tol: 1e-6 });
      expect(kH).toAllClose(perm(kC, p.nKvHeads), { tol: 1e-6 });
      // ...so every attention score is the same.
      expect(scores(qH, kH, p.nHeads, p.nKvHeads, hs)).toAllClose(scores(qC, kC, p.nHeads, p.nKvHeads, hs), { tol: 1e-5 });
    }
    // And the permutation is needed: HF RoPE on the unpermuted weights gives other scores.
    const x = Float64Array.from(randArray(r, p.dim));
    const y = Float64Array.from(randArray(r, p.dim));
    const good = scores(ropeInterleaved(matVec(w.wq, x, p.dim), 5, hs), ropeInterleaved(matVec(w.wk, y, kvDim), 2, hs), p.nHeads, p.nKvHeads, hs);
    const wrong = scores(ropeRotateHalf(matVec(w.wq, x, p.dim), 5, hs), ropeRotateHalf(matVec(w.wk, y, kvDim), 2, hs), p.nHeads, p.nKvHeads, hs);
    expect(wrong).not.toAllClose(good, { tol: 1e-3 });
  });
});
