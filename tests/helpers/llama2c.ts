// A llama2.c checkpoint (version 1 header, f32) with random weights, written byte by byte as
// llama2.c's export.py lays it out: for model import tests.
import { LLAMA2C_MAGIC } from '../../src/io/llama2c';
import { randArray, rng } from './random';

export interface Llama2cShape {
  dim: number;
  hiddenDim: number;
  nLayers: number;
  nHeads: number;
  nKvHeads: number;
  vocabSize: number;
  seqLen: number;
}

/** The bytes of a version-1 llama2.c checkpoint of `p` (classifier shared with the embedding when `shared`). */
export function llama2cCheckpoint(p: Llama2cShape, seed: number, shared = false): Uint8Array<ArrayBuffer> {
  const r = rng(seed);
  const kv = (p.nKvHeads * p.dim) / p.nHeads;
  const L = p.nLayers;
  const sizes = [
    L * p.dim, L * p.dim, p.dim, // rms_att, rms_ffn, rms_final
    p.vocabSize * p.dim, // token embedding
    L * p.dim * p.dim, L * kv * p.dim, L * kv * p.dim, L * p.dim * p.dim, // wq, wk, wv, wo
    L * p.hiddenDim * p.dim, L * p.dim * p.hiddenDim, L * p.hiddenDim * p.dim, // w1, w2, w3
    ...(shared ? [] : [p.vocabSize * p.dim]), // wcls
  ];
  const floats = sizes.reduce((a, b) => a + b, 0);
  const bytes = new Uint8Array(256 + 4 * floats);
  const v = new DataView(bytes.buffer);
  v.setUint32(0, LLAMA2C_MAGIC, true);
  v.setInt32(4, 1, true);
  [p.dim, p.hiddenDim, p.nLayers, p.nHeads, p.nKvHeads, p.vocabSize, p.seqLen].forEach((x, i) => v.setInt32(8 + 4 * i, x, true));
  v.setUint8(36, shared ? 1 : 0);
  new Float32Array(bytes.buffer, 256).set(randArray(r, floats, 0.5));
  return bytes;
}
