// llama2.c checkpoints (karpathy/llama2.c `run.c`, written by its `export.py`), read
// into Hugging Face Llama names and shapes, with an HF config.json to match.
//
// Two layouts, all numbers little-endian, all weights f32, every matrix row-major
// (out, in) as in PyTorch's nn.Linear — which is also the HF shape:
//
// legacy (version 0): 7 × int32 header
//     dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len
//   vocab_size < 0 means the classifier is NOT shared with the embedding (|vocab_size| is the vocab).
//   then: token_embedding (V,dim), rms_att (L,dim), wq (L,dim,dim), wk (L,kv_dim,dim),
//         wv (L,kv_dim,dim), wo (L,dim,dim), rms_ffn (L,dim), w1 (L,hidden,dim),
//         w2 (L,dim,hidden), w3 (L,hidden,dim), rms_final (dim),
//         freq_cis_real, freq_cis_imag (seq_len·head_size/2 each; skipped),
//         [wcls (V,dim) when unshared]
//
// version 1: 256-byte header
//     uint32 magic 0x616b3432 ("ak42"), int32 version = 1, the 7 int32 above (vocab_size
//     positive), uint8 shared_classifier, zero padding to 256 bytes
//   then: rms_att (L,dim), rms_ffn (L,dim), rms_final (dim), token_embedding (V,dim),
//         wq, wk, wv, wo, w1, w2, w3 (each (L, ...) as above), [wcls (V,dim) when not shared]
//   (version 2 is the int8-quantised export; it is recognised and refused.)
//
// Names: w1 -> mlp.gate_proj, w2 -> mlp.down_proj, w3 -> mlp.up_proj (run.c computes
// w2(silu(w1 x) * w3 x)); rms_att -> input_layernorm, rms_ffn -> post_attention_layernorm.
//
// ----------------------------------------------------------------- RoPE convention
// run.c rotates *adjacent pairs* within each head (the original Meta / GPT-J
// "interleaved" convention): for pair p = 0 .. head_size/2-1,
//     (x[2p], x[2p+1]) -> (x[2p] cos θp − x[2p+1] sin θp, x[2p] sin θp + x[2p+1] cos θp),
//     θp = pos · 10000^(−2p/head_size).
// HF Llama's `rotate_half` instead pairs x[p] with x[p + head_size/2] at the same θp.
// llama2.c's own models (train.py / model.py) and Meta checkpoints are in the first
// convention; export.py un-permutes HF weights into it when it exports an HF model.
// So to run a llama2.c checkpoint under HF RoPE, reorder the output rows of wq and wk
// within each head: new row p ← old row 2p, new row head_size/2 + p ← old row 2p+1 —
// exactly the `permute` of transformers' convert_llama_weights_to_hf.py
// (view(heads, hs/2, 2, in).transpose(1, 2)). Then q' = P q and k' = P k with the same
// per-head permutation P, HF RoPE of q' is P times run.c's RoPE of q, and the attention
// scores q'·k' = q·k are unchanged: the model computes the same function. wv, wo and
// everything else need nothing. `interleavedToHalfRows` is that permutation;
// `halfToInterleavedRows` is its inverse (for exporting back to llama2.c).
import { WeightFileError, blobName } from './errors';
import { fromLittleEndian } from './dtype';

export const LLAMA2C_MAGIC = 0x616b3432;
const V1_HEADER_BYTES = 256;
const LEGACY_HEADER_BYTES = 28;

export interface Llama2cParams {
  dim: number;
  hiddenDim: number;
  nLayers: number;
  nHeads: number;
  nKvHeads: number;
  /** Always positive here (the legacy sign is `sharedClassifier`). */
  vocabSize: number;
  seqLen: number;
}

export interface NamedTensor {
  shape: number[];
  /** Row-major f32 values (may be a view into a larger buffer). */
  data: Float32Array;
}

export interface Llama2cCheckpoint {
  fileName: string;
  /** 0 = legacy header, 1 = version-1 header. */
  version: 0 | 1;
  params: Llama2cParams;
  /** lm_head shares the embedding: then `tensors` has no lm_head.weight and config.tie_word_embeddings is true. */
  sharedClassifier: boolean;
  /** HF Llama name -> tensor with HF shape; q/k rows already in HF rotate-half order unless `permuteRope: false`. */
  tensors: Map<string, NamedTensor>;
  /** A config.json for the same model (LlamaForCausalLM). */
  config: Record<string, unknown>;
  /** Whether q_proj/k_proj were permuted to HF's rotate-half RoPE order. */
  ropePermuted: boolean;
}

export interface Llama2cReadOptions {
  fileName?: string;
  /** Reorder q/k rows for HF rotate-half RoPE (default true; see the note at the top). */
  permuteRope?: boolean;
}

// ----------------------------------------------------------------- permutation

function checkPermArgs(w: Float32Array, nHeads: number, rows: number, cols: number): number {
  if (w.length !== rows * cols) throw new Error(`RoPE permutation: ${w.length} values, expected ${rows} × ${cols}`);
  if (rows % nHeads !== 0) throw new Error(`RoPE permutation: ${rows} rows do not split into ${nHeads} heads`);
  const hs = rows / nHeads;
  if (hs % 2 !== 0) throw new Error(`RoPE permutation: head size ${hs} is odd`);
  return hs;
}

/**
 * Rows of a q or k projection (rows = nHeads·headSize, cols), from llama2.c/Meta
 * interleaved-pair order to HF rotate-half order: within each head, new row p is old
 * row 2p and new row hs/2 + p is old row 2p + 1.
 */
export function interleavedToHalfRows(w: Float32Array, nHeads: number, rows: number, cols: number): Float32Array {
  const hs = checkPermArgs(w, nHeads, rows, cols);
  const half = hs / 2;
  const out = new Float32Array(w.length);
  for (let h = 0; h < nHeads; h++) {
    for (let p = 0; p < half; p++) {
      for (let a = 0; a < 2; a++) {
        const src = (h * hs + 2 * p + a) * cols;
        const dst = (h * hs + a * half + p) * cols;
        out.set(w.subarray(src, src + cols), dst);
      }
    }
  }
  return out;
}

/** The inverse of `interleavedToHalfRows`: HF rotate-half order back to interleaved pairs. */
export function halfToInterleavedRows(w: Float32Array, nHeads: number, rows: number, cols: number): Float32Array {
  const hs = checkPermArgs(w, nHeads, rows, cols);
  const half = hs / 2;
  const out = new Float32Array(w.length);
  for (let h = 0; h < nHeads; h++) {
    for (let p = 0; p < half; p++) {
      for (let a = 0; a < 2; a++) {
        const src = (h * hs + a * half + p) * cols;
        const dst = (h * hs + 2 * p + a) * cols;
        out.set(w.subarray(src, src + cols), dst);
      }
    }
  }
  return out;
}

// ----------------------------------------------------------------- reader

/** The HF config.json of a llama2.c model. */
export function llama2cHfConfig(p: Llama2cParams, sharedClassifier: boolean): Record<string, unknown> {
  return {
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    hidden_size: p.dim,
    intermediate_size: p.hiddenDim,
    num_hidden_layers: p.nLayers,
    num_attention_heads: p.nHeads,
    num_key_value_heads: p.nKvHeads,
    head_dim: p.dim / p.nHeads,
    vocab_size: p.vocabSize,
    max_position_embeddings: p.seqLen,
    hidden_act: 'silu',
    rms_norm_eps: 1e-5, // run.c's rmsnorm
    rope_theta: 10000.0, // run.c's RoPE base
    tie_word_embeddings: sharedClassifier,
    attention_bias: false,
    mlp_bias: false,
    // llama2.c's tokenizers (Llama 2's, or one trained by its sentencepiece script) use these ids.
    bos_token_id: 1,
    eos_token_id: 2,
    initializer_range: 0.02,
    torch_dtype: 'float32',
    use_cache: true,
  };
}

function describe(p: Llama2cParams): string {
  return `dim=${p.dim}, hidden_dim=${p.hiddenDim}, n_layers=${p.nLayers}, n_heads=${p.nHeads}, n_kv_heads=${p.nKvHeads}, vocab_size=${p.vocabSize}, seq_len=${p.seqLen}`;
}

function validateParams(p: Llama2cParams, fileName: string, version: number): void {
  const fail = (why: string) => {
    throw new WeightFileError(fileName, `not a llama2.c checkpoint (${version === 0 ? 'legacy' : `version ${version}`} header: ${describe(p)}): ${why}`);
  };
  const limits: [keyof Llama2cParams, number][] = [
    ['dim', 1 << 16], ['hiddenDim', 1 << 18], ['nLayers', 1024], ['nHeads', 1024], ['nKvHeads', 1024], ['vocabSize', 1 << 24], ['seqLen', 1 << 20],
  ];
  for (const [k, max] of limits) if (!(p[k] >= 1 && p[k] <= max)) fail(`${k} must be in 1..${max}`);
  if (p.dim % p.nHeads !== 0) fail('dim is not a multiple of n_heads');
  if (p.nHeads % p.nKvHeads !== 0) fail('n_heads is not a multiple of n_kv_heads');
  if ((p.dim / p.nHeads) % 2 !== 0) fail('head size is odd (RoPE needs pairs)');
}

interface Segment {
  /** Which weight (llama2.c name). */
  key: 'emb' | 'rms_att' | 'wq' | 'wk' | 'wv' | 'wo' | 'rms_ffn' | 'w1' | 'w2' | 'w3' | 'rms_final' | 'freq_cis' | 'wcls';
  /** Shape of one layer's tensor (or the whole tensor when not per-layer). */
  shape: number[];
  perLayer: boolean;
}

function segmentFloats(s: Segment, nLayers: number): number {
  return s.shape.reduce((a, b) => a * b, 1) * (s.perLayer ? nLayers : 1);
}

function hfName(key: Segment['key'], l: number): string | null {
  const layer = `model.layers.${l}`;
  switch (key) {
    case 'emb': return 'model.embed_tokens.weight';
    case 'rms_att': return `${layer}.input_layernorm.weight`;
    case 'wq': return `${layer}.self_attn.q_proj.weight`;
    case 'wk': return `${layer}.self_attn.k_proj.weight`;
    case 'wv': return `${layer}.self_attn.v_proj.weight`;
    case 'wo': return `${layer}.self_attn.o_proj.weight`;
    case 'rms_ffn': return `${layer}.post_attention_layernorm.weight`;
    case 'w1': return `${layer}.mlp.gate_proj.weight`;
    case 'w2': return `${layer}.mlp.down_proj.weight`;
    case 'w3': return `${layer}.mlp.up_proj.weight`;
    case 'rms_final': return 'model.norm.weight';
    case 'wcls': return 'lm_head.weight';
    case 'freq_cis': return null;
  }
}

/**
 * Reads a llama2.c `.bin` checkpoint (legacy or version 1). Each weight block is read
 * with its own `blob.slice`, so the peak memory is about the model's size.
 */
export async function readLlama2c(blob: Blob, opts: Llama2cReadOptions = {}): Promise<Llama2cCheckpoint> {
  const fileName = opts.fileName ?? blobName(blob, 'model.bin');
  const permute = opts.permuteRope ?? true;
  if (blob.size < LEGACY_HEADER_BYTES) {
    throw new WeightFileError(fileName, `not a llama2.c checkpoint: ${blob.size} bytes, shorter than the smallest header (${LEGACY_HEADER_BYTES} bytes)`);
  }
  const head = new DataView(await blob.slice(0, Math.min(blob.size, V1_HEADER_BYTES)).arrayBuffer());
  const magic = head.getUint32(0, true);

  let version: 0 | 1;
  let params: Llama2cParams;
  let shared: boolean;
  let headerBytes: number;
  const ints = (at: number) => Array.from({ length: 7 }, (_, i) => head.getInt32(at + 4 * i, true));
  if (magic === LLAMA2C_MAGIC) {
    if (head.byteLength < V1_HEADER_BYTES) {
      throw new WeightFileError(fileName, `truncated llama2.c file: the versioned header needs ${V1_HEADER_BYTES} bytes, got ${blob.size}`);
    }
    const v = head.getInt32(4, true);
    if (v === 2) {
      throw new WeightFileError(fileName, 'llama2.c version 2 (int8-quantised, Q8_0) checkpoints are not supported: export with version 1 (fp32) or legacy');
    }
    if (v !== 1) throw new WeightFileError(fileName, `unknown llama2.c checkpoint version ${v} (Plantune reads the legacy format and version 1)`);
    const [dim, hiddenDim, nLayers, nHeads, nKvHeads, vocabSize, seqLen] = ints(8);
    params = { dim, hiddenDim, nLayers, nHeads, nKvHeads, vocabSize, seqLen };
    const flag = head.getUint8(36);
    if (flag > 1) throw new WeightFileError(fileName, `version 1 header: shared_classifier byte is ${flag}, expected 0 or 1`);
    shared = flag === 1;
    version = 1;
    headerBytes = V1_HEADER_BYTES;
  } else {
    const [dim, hiddenDim, nLayers, nHeads, nKvHeads, vocab, seqLen] = ints(0);
    shared = vocab > 0;
    params = { dim, hiddenDim, nLayers, nHeads, nKvHeads, vocabSize: Math.abs(vocab), seqLen };
    version = 0;
    headerBytes = LEGACY_HEADER_BYTES;
  }
  validateParams(params, fileName, version);

  const { dim, hiddenDim, nLayers, nHeads, nKvHeads, vocabSize: V, seqLen } = params;
  const hs = dim / nHeads;
  const kvDim = nKvHeads * hs;
  const seg = (key: Segment['key'], shape: number[], perLayer: boolean): Segment => ({ key, shape, perLayer });
  const emb = seg('emb', [V, dim], false);
  const rmsAtt = seg('rms_att', [dim], true);
  const rmsFfn = seg('rms_ffn', [dim], true);
  const rmsFinal = seg('rms_final', [dim], false);
  const mats = [
    seg('wq', [nHeads * hs, dim], true),
    seg('wk', [kvDim, dim], true),
    seg('wv', [kvDim, dim], true),
    seg('wo', [dim, nHeads * hs], true),
  ];
  const ffn = [seg('w1', [hiddenDim, dim], true), seg('w2', [dim, hiddenDim], true), seg('w3', [hiddenDim, dim], true)];
  const layout: Segment[] =
    version === 0
      ? [emb, rmsAtt, ...mats, rmsFfn, ...ffn, rmsFinal, seg('freq_cis', [seqLen * hs], false)]
      : [rmsAtt, rmsFfn, rmsFinal, emb, ...mats, ...ffn];
  if (!shared) layout.push(seg('wcls', [V, dim], false));

  const expected = headerBytes + 4 * layout.reduce((n, s) => n + segmentFloats(s, nLayers), 0);
  if (blob.size !== expected) {
    const what = version === 0 ? 'legacy' : 'version 1';
    throw new WeightFileError(
      fileName,
      blob.size < expected
        ? `truncated llama2.c checkpoint: expected ${expected} bytes from the ${what} header (${describe(params)}, ${shared ? 'shared' : 'unshared'} classifier), got ${blob.size}`
        : `llama2.c ${what} header (${describe(params)}) implies ${expected} bytes, but the file has ${blob.size}: a different format or version?`,
    );
  }

  const tensors = new Map<string, NamedTensor>();
  let offset = headerBytes;
  for (const s of layout) {
    const floats = segmentFloats(s, nLayers);
    const bytes = floats * 4;
    if (s.key === 'freq_cis') {
      offset += bytes;
      continue;
    }
    const buf = await blob.slice(offset, offset + bytes).arrayBuffer();
    if (buf.byteLength !== bytes) throw new WeightFileError(fileName, `short read at byte ${offset}: file changed while reading?`);
    const all = new Float32Array(fromLittleEndian(buf, 4));
    offset += bytes;
    const per = s.shape.reduce((a, b) => a * b, 1);
    const count = s.perLayer ? nLayers : 1;
    for (let l = 0; l < count; l++) {
      let data: Float32Array = all.subarray(l * per, (l + 1) * per);
      if (permute && s.key === 'wq') data = interleavedToHalfRows(data, nHeads, s.shape[0], s.shape[1]);
      if (permute && s.key === 'wk') data = interleavedToHalfRows(data, nKvHeads, s.shape[0], s.shape[1]);
      tensors.set(hfName(s.key, l)!, { shape: s.shape.slice(), data });
    }
  }
  return { fileName, version, params, sharedClassifier: shared, tensors, config: llama2cHfConfig(params, shared), ropePermuted: permute };
}
