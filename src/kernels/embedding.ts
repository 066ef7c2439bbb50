// Token (+ learned position) embedding. The backward scatter-add into dwte is deterministic
// without float atomics by using a token index built on the CPU, where the trainer has the token
// ids anyway (it uploads them): for each distinct id, the positions where it occurs, in order.
// Building it is O(B*T + V) on the CPU and a few KB to upload; the GPU then does one gather-sum
// per (distinct id, channel) with no contention. (A GPU-only alternative needs an atomic counting
// pass plus a stable ordering of each bucket, to get the same determinism at more cost.)
// A table larger than one binding (Qwen2.5's 151936 x 896 is 545 MB) is bound as chunks of
// vocabulary rows, one dispatch each (src/kernels/split.ts).
import code from '../../shaders/embedding.wgsl?raw';
import type { Gpu } from '../gpu/device';
import type { Engine } from '../gpu/engine';
import { type Tensor, expectDType, expectShape, reshape, subview } from '../gpu/tensor';
import { upload } from '../gpu/transfer';
import { strideGrid } from './elementwise';
import { reduceCols } from './reduce';
import { expectF32 } from './shape';
import { chunkItems, rowChunk } from './split';

const WG = 64;

/** Where each distinct token id occurs in a (B,T) batch, as flat positions b*T + t. */
export interface TokenIndex {
  /** Distinct token ids, increasing (U). */
  ids: Int32Array;
  /** ids[u] occurs at positions[starts[u] .. starts[u+1]) (U+1). */
  starts: Uint32Array;
  /** Flat positions grouped by id, increasing within each id (B*T). */
  positions: Uint32Array;
}

/** Builds the index of a batch of token ids by a counting sort (stable: positions stay in order). */
export function buildTokenIndex(tokens: ArrayLike<number>, V: number): TokenIndex {
  const count = new Uint32Array(V + 1);
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (!(Number.isInteger(t) && t >= 0 && t < V)) throw new RangeError(`buildTokenIndex: token ${t} at position ${i} is outside [0, ${V})`);
    count[t + 1]++;
  }
  const ids: number[] = [];
  const starts: number[] = [0];
  for (let v = 0; v < V; v++) {
    if (count[v + 1] > 0) {
      ids.push(v);
      starts.push(starts[starts.length - 1] + count[v + 1]);
    }
    count[v + 1] += count[v]; // count[v] becomes the first slot of id v
  }
  const positions = new Uint32Array(tokens.length);
  for (let i = 0; i < tokens.length; i++) positions[count[tokens[i]]++] = i;
  return { ids: Int32Array.from(ids), starts: Uint32Array.from(starts), positions };
}

/** A token index on the GPU: ids (U) i32, starts (U+1) u32, positions (B*T) u32. */
export interface TokenIndexTensors {
  ids: Tensor;
  starts: Tensor;
  positions: Tensor;
}

/** Buffers for the index of up to `n` positions, from the pool: allocate once, refill each step with uploadTokenIndex. */
export function tokenIndexBuffers(e: Engine, n: number): TokenIndexTensors {
  return { ids: e.pool.tensor([n], 'i32', 'token index ids'), starts: e.pool.tensor([n + 1], 'u32', 'token index starts'), positions: e.pool.tensor([n], 'u32', 'token index positions') };
}

/** Writes `index` into `into` (from tokenIndexBuffers) and returns views of exactly its size. */
export function uploadTokenIndex(gpu: Gpu, index: TokenIndex, into: TokenIndexTensors): TokenIndexTensors {
  const U = index.ids.length;
  if (U > into.ids.shape[0] || index.positions.length > into.positions.shape[0]) {
    throw new RangeError(`uploadTokenIndex: index of ${index.positions.length} positions does not fit buffers for ${into.positions.shape[0]}`);
  }
  const out = { ids: subview(into.ids, 0, [U]), starts: subview(into.starts, 0, [U + 1]), positions: subview(into.positions, 0, [index.positions.length]) };
  upload(gpu, out.ids, index.ids);
  upload(gpu, out.starts, index.starts);
  upload(gpu, out.positions, index.positions);
  return out;
}

export interface EmbeddingOptions {
  /** Position of t = 0 in wpe (default 0; the cache length when generating). */
  posOffset?: number;
}

// tokens is (B,T) i32, wte is (V,C), wpe is (maxT,C) or null (no learned positions); out is (B,T,C)
// out[b,t,:] = wte[tokens[b,t],:] (+ wpe[posOffset+t,:]). Ids outside [0,V) give NaN rows.
export async function embeddingForward(e: Engine, tokens: Tensor, wte: Tensor, wpe: Tensor | null, out: Tensor, opts: EmbeddingOptions = {}): Promise<void> {
  expectDType(tokens, 'i32', 'embeddingForward tokens');
  if (tokens.shape.length !== 2) throw new RangeError(`embeddingForward tokens: expected (B,T), got [${tokens.shape}]`);
  const [B, T] = tokens.shape;
  if (wte.shape.length !== 2) throw new RangeError(`embeddingForward wte: expected (V,C), got [${wte.shape}]`);
  const [V, C] = wte.shape;
  expectDType(wte, 'f32', 'embeddingForward wte');
  expectF32(out, [B, T, C], 'embeddingForward out');
  const posOffset = opts.posOffset ?? 0;
  if (wpe) {
    expectF32(wpe, [-1, C], 'embeddingForward wpe');
    if (posOffset + T > wpe.shape[0]) throw new RangeError(`embeddingForward: positions up to ${posOffset + T} but wpe has ${wpe.shape[0]} rows`);
  }
  const pipeline = await e.pipelines.get({ label: `embedding_forward${wpe ? '_pos' : ''}_wg${WG}`, code, entryPoint: 'forward', constants: { WG, HAS_POS: wpe ? 1 : 0 } });
  const n = B * T * C;
  for (const chunk of chunkItems(e, V, C * 4, 'embeddingForward wte')) {
    const params = e.rec.params([['u32', n], ['u32', C], ['u32', T], ['u32', V], ['u32', posOffset], ['f32', NaN], ['u32', chunk.start], ['u32', chunk.count]]);
    const table = rowChunk(wte, chunk);
    // Without positions the kernel never reads binding 3, but a binding is still required: the table stands in.
    e.rec.dispatch(pipeline, [params, tokens, table, wpe ?? table, out], strideGrid(n, WG));
  }
}

export interface EmbeddingBackwardOptions {
  /** dwte (and dwpe) += instead of = (tied lm_head weights, gradient accumulation). */
  accumulate?: boolean;
}

// dout is (B,T,C); index is the token index of the forward's tokens (uploadTokenIndex);
// dwte is (V,C), dwpe is (maxT,C) or null. dwte[v] (+)= sum of dout rows where token = v;
// dwpe[t] (+)= sum_b dout[b,t] for t < T (a column sum over b). Without accumulate, every row of
// dwte and dwpe is written (rows of absent ids and positions >= T become 0).
export async function embeddingBackward(
  e: Engine, dout: Tensor, index: TokenIndexTensors, dwte: Tensor, dwpe: Tensor | null, opts: EmbeddingBackwardOptions = {},
): Promise<void> {
  if (dout.shape.length !== 3) throw new RangeError(`embeddingBackward dout: expected (B,T,C), got [${dout.shape}]`);
  const [B, T, C] = dout.shape;
  expectDType(dout, 'f32', 'embeddingBackward dout');
  expectF32(dwte, [-1, C], 'embeddingBackward dwte');
  expectDType(index.ids, 'i32', 'embeddingBackward index.ids');
  expectDType(index.starts, 'u32', 'embeddingBackward index.starts');
  expectDType(index.positions, 'u32', 'embeddingBackward index.positions');
  const U = index.ids.shape[0];
  expectShape(index.starts, [U + 1], 'embeddingBackward index.starts');
  expectShape(index.positions, [B * T], 'embeddingBackward index.positions');
  const accumulate = opts.accumulate ?? false;
  if (!accumulate) e.rec.commandEncoder.clearBuffer(dwte.buffer, dwte.offset, dwte.shape[0] * C * 4);

  const pipeline = await e.pipelines.get({ label: `embedding_backward_wg${WG}`, code, entryPoint: 'backward', constants: { WG } });
  const n = U * C;
  const V = dwte.shape[0];
  for (const chunk of chunkItems(e, V, C * 4, 'embeddingBackward dwte')) {
    const params = e.rec.params([['u32', n], ['u32', C], ['u32', T], ['u32', V], ['u32', 0], ['f32', 0], ['u32', chunk.start], ['u32', chunk.count]]);
    e.rec.dispatch(pipeline, [params, index.ids, index.starts, index.positions, dout, rowChunk(dwte, chunk)], strideGrid(n, WG));
  }

  if (dwpe) {
    expectF32(dwpe, [-1, C], 'embeddingBackward dwpe');
    const maxT = dwpe.shape[0];
    if (T > maxT) throw new RangeError(`embeddingBackward: T = ${T} but dwpe has ${maxT} rows`);
    if (!accumulate && maxT > T) e.rec.commandEncoder.clearBuffer(dwpe.buffer, dwpe.offset + T * C * 4, (maxT - T) * C * 4);
    await reduceCols(e, reshape(dout, [B, T * C]), subview(dwpe, 0, [T * C]), { accumulate });
  }
}
