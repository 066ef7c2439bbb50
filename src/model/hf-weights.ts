// Hugging Face weights <-> the flat parameter buffer. Both directions are one loop over
// the layout's HF tensors (hfTensors): each HF tensor feeds one or more Plantune tensors
// through fromHfTensor / intoHfTensor, which apply GPT-2's c_attn split and the Conv1D
// transpose. dtype conversion (F16 / BF16 -> f32) is the io module's.
//
// Names: a checkpoint of the *ForCausalLM / LMHeadModel class has the layout's hfNames;
// one of the bare base model omits `layout.hfBasePrefix` (the hub's gpt2 files say
// `h.0.attn.c_attn.weight`, not `transformer.h.0...`). Both are accepted.
// Tied embeddings: the checkpoint needs no lm_head.weight; if it has one, it must equal
// the embedding (otherwise the config and the file disagree, and we say so).
import { WeightFileError, preview, writeSafetensors, type TensorToWrite } from '../io';
import { toHfConfig } from './config';
import { type ParamLayout, fromHfTensor, hfTensors, intoHfTensor, tensorSpec, view } from './param-layout';

/** One tensor of a TensorSource (a safetensors LazyTensor fits). */
export interface TensorEntry {
  readonly shape: readonly number[];
  readonly byteLength: number;
  /** The file the tensor is in, for error messages. */
  readonly fileName: string;
  float32(): Promise<Float32Array>;
}

/** Named tensors to load from: a WeightSource (one safetensors file or a sharded checkpoint), or tensors already in memory. */
export interface TensorSource {
  readonly names: readonly string[];
  has(name: string): boolean;
  get(name: string): TensorEntry;
  /** The single file the tensors come from, when there is one (error messages). */
  readonly fileName?: string;
}

export interface LoadProgress {
  /** HF tensor just read. */
  tensor: string;
  /** Bytes read so far, and of all tensors to read. */
  loaded: number;
  total: number;
}

export interface LoadOptions {
  onProgress?: (p: LoadProgress) => void;
}

const LM_HEAD = 'lm_head.weight';

function sourceName(source: TensorSource): string {
  return source.fileName ?? 'the checkpoint';
}

/** The name under which `hfName` is in the source (as is, or without the base-model prefix), or null. */
function resolveName(source: TensorSource, hfName: string, prefix: string): string | null {
  if (source.has(hfName)) return hfName;
  const bare = hfName.startsWith(prefix) ? hfName.slice(prefix.length) : null;
  return bare !== null && source.has(bare) ? bare : null;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

function describeConfig(layout: ParamLayout): string {
  const { architecture, V, C, L, NH, NKV, F } = layout.config;
  return `${architecture} V=${V} C=${C} L=${L} NH=${NH} NKV=${NKV} F=${F}`;
}

/**
 * The flat parameters of `layout` read from `source`: every layout tensor filled from its
 * HF tensor. All names and shapes are checked before any tensor data is read, so a wrong
 * file fails at once with the tensor, the expected and the found shape, and the file.
 */
export async function loadHfWeights(layout: ParamLayout, source: TensorSource, opts: LoadOptions = {}): Promise<Float32Array> {
  const cfg = layout.config;
  const plan = hfTensors(layout.tensors).map((hf) => {
    const name = resolveName(source, hf.hfName, layout.hfBasePrefix);
    if (name === null) {
      const bare = hf.hfName.startsWith(layout.hfBasePrefix) ? ` (nor "${hf.hfName.slice(layout.hfBasePrefix.length)}")` : '';
      const hint = hf.hfName === LM_HEAD ? ' config.json has tie_word_embeddings false, so the model needs its own LM head.' : '';
      throw new WeightFileError(
        sourceName(source),
        `has no tensor "${hf.hfName}"${bare}, needed for ${hf.parts.map((p) => p.name).join(', ')}; it has ${source.names.length}: ${preview(source.names)}.${hint}`,
        hf.hfName,
      );
    }
    const entry = source.get(name);
    if (!sameShape(entry.shape, hf.hfShape)) {
      throw new WeightFileError(
        entry.fileName,
        `tensor "${name}" has shape [${entry.shape.join(', ')}], expected [${hf.hfShape.join(', ')}] from config.json (${describeConfig(layout)})`,
        name,
      );
    }
    return { name, entry, parts: hf.parts };
  });
  const tiedHead = cfg.tiedEmbeddings ? resolveName(source, LM_HEAD, layout.hfBasePrefix) : null;

  const params = new Float32Array(layout.totalElements);
  const total = plan.reduce((n, p) => n + p.entry.byteLength, 0);
  let loaded = 0;
  for (const { name, entry, parts } of plan) {
    const data = await entry.float32();
    for (const t of parts) fromHfTensor(t, data, view(params, t));
    loaded += entry.byteLength;
    opts.onProgress?.({ tensor: name, loaded, total });
  }
  if (tiedHead !== null) await checkTiedHead(layout, source.get(tiedHead), tiedHead, view(params, tensorSpec(layout, 'wte')));
  return params;
}

async function checkTiedHead(layout: ParamLayout, head: TensorEntry, name: string, wte: Float32Array): Promise<void> {
  const fail = (why: string) => {
    throw new WeightFileError(
      head.fileName,
      `config.json has tie_word_embeddings true, but "${name}" ${why}; set tie_word_embeddings to false in config.json to load it as a separate LM head`,
      name,
    );
  };
  if (head.shape.length !== 2 || head.shape[0] !== layout.config.V || head.shape[1] !== layout.config.C) {
    fail(`has shape [${head.shape.join(', ')}], not the embedding's [${layout.config.V}, ${layout.config.C}]`);
  }
  const data = await head.float32();
  const i = data.findIndex((x, k) => !Object.is(x, wte[k]));
  if (i >= 0) fail(`differs from the embedding (element ${i}: ${data[i]} vs ${wte[i]})`);
}

/** A copy of `params` with every LoRA-targeted weight replaced by W + (alpha/r)·B·A (per part of the adapter's rows of B). */
export function mergeLoraInto<P extends Float32Array | Float64Array>(layout: ParamLayout, params: P, lora: Float32Array | Float64Array): P {
  const ll = layout.lora;
  if (!ll) throw new Error('mergeLoraInto: the layout has no LoRA spec');
  if (params.length !== layout.totalElements) throw new RangeError(`mergeLoraInto: params has ${params.length} elements, the layout needs ${layout.totalElements}`);
  if (lora.length !== ll.totalElements) throw new RangeError(`mergeLoraInto: lora has ${lora.length} elements, the LoRA layout needs ${ll.totalElements}`);
  const merged = params.slice() as P;
  const r = ll.rank;
  for (const ad of ll.adapters) {
    const A = view(lora, ad.A); // (r, in)
    const B = view(lora, ad.B); // (out, r)
    for (const part of ad.parts) {
      const W = view(merged, tensorSpec(layout, part.param)); // (rows, in)
      for (let i = 0; i < part.rows; i++) {
        const b = (part.rowStart + i) * r;
        for (let j = 0; j < ad.inDim; j++) {
          let s = 0;
          for (let c = 0; c < r; c++) s += B[b + c] * A[c * ad.inDim + j];
          W[i * ad.inDim + j] += ll.scale * s;
        }
      }
    }
  }
  return merged;
}

export interface HfExport {
  /** config.json text. */
  configJson: string;
  /** model.safetensors (f32, HF names of the *ForCausalLM / LMHeadModel class). */
  safetensors: Blob;
}

/**
 * config.json and model.safetensors that transformers' from_pretrained loads as this
 * model. With `lora`, the adapters are merged into the weights (a plain model results).
 * A tied LM head is not written (save_pretrained drops it too).
 */
export function exportHfModel(layout: ParamLayout, params: Float32Array, opts: { lora?: Float32Array } = {}): HfExport {
  if (params.length !== layout.totalElements) throw new RangeError(`exportHfModel: params has ${params.length} elements, the layout needs ${layout.totalElements}`);
  const weights = opts.lora ? mergeLoraInto(layout, params, opts.lora) : params;
  const tensors: TensorToWrite[] = hfTensors(layout.tensors).map((hf) => {
    const data = new Float32Array(hf.hfShape.reduce((a, b) => a * b, 1));
    for (const t of hf.parts) intoHfTensor(t, view(weights, t), data);
    return { name: hf.hfName, shape: hf.hfShape, dtype: 'F32', data };
  });
  return {
    configJson: JSON.stringify(toHfConfig(layout.config), null, 2) + '\n',
    safetensors: writeSafetensors(tensors, { format: 'pt' }),
  };
}
