// A model from files the user dropped: a Hugging Face folder (config.json, model.safetensors
// or model.safetensors.index.json + shards, tokenizer.json, tokenizer_config.json) or a
// llama2.c `.bin` checkpoint (its config comes from the header; its weights arrive in HF
// Llama names with q/k already in HF's RoPE order). Either way the result is a ModelConfig
// and the flat parameters of paramLayout(config).
import { type FileSet, type Llama2cCheckpoint, findFile, openWeights, preview, readLlama2c, toFileMap } from '../io';
import { type ModelConfig, ModelConfigError, parseHfConfig } from './config';
import { type LoadOptions, type TensorSource, loadHfWeights } from './hf-weights';
import { paramLayout } from './param-layout';

export interface LoadedModel {
  config: ModelConfig;
  /** Flat parameters laid out by paramLayout(config). */
  params: Float32Array;
  /** tokenizer.json text, when the files include it. */
  tokenizerJson?: string;
  /** tokenizer_config.json text, when the files include it. */
  tokenizerConfig?: string;
}

const CONFIG_FILE = 'config.json';

function baseName(path: string): string {
  return path.slice(Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\')) + 1);
}

function parseConfigJson(text: string): ModelConfig {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ModelConfigError(`not valid JSON (${(e as Error).message})`);
  }
  return parseHfConfig(json);
}

/** The tensors of a llama2.c checkpoint as a TensorSource (they are already in memory). */
function llama2cSource(ckpt: Llama2cCheckpoint): TensorSource {
  const names = [...ckpt.tensors.keys()];
  return {
    fileName: ckpt.fileName,
    names,
    has: (name) => ckpt.tensors.has(name),
    get: (name) => {
      const t = ckpt.tensors.get(name);
      if (!t) throw new Error(`${ckpt.fileName}: no tensor "${name}"`);
      return { shape: t.shape, byteLength: t.data.byteLength, fileName: ckpt.fileName, float32: async () => t.data };
    },
  };
}

/** The one llama2.c checkpoint among `files` (a `.bin` that is not llama2.c's tokenizer.bin); explains what is missing otherwise. */
function llama2cFile(files: Map<string, Blob>): [string, Blob] {
  const bins = [...files.entries()].filter(([k]) => k.endsWith('.bin') && baseName(k) !== 'tokenizer.bin');
  if (bins.length === 1) return bins[0];
  if (bins.length > 1) throw new Error(`no ${CONFIG_FILE}, and several .bin files (${bins.map(([k]) => k).join(', ')}): give one llama2.c checkpoint, or a Hugging Face folder with its ${CONFIG_FILE}`);
  const peft = findFile(files, 'adapter_config.json') ? ' This looks like a PEFT adapter: load its base model first, then the adapter.' : '';
  throw new Error(`no model found: expected a Hugging Face folder (${CONFIG_FILE} + model.safetensors) or a llama2.c .bin checkpoint. Files given: ${preview([...files.keys()], 8)}.${peft}`);
}

/** Loads a model from a dropped Hugging Face folder or llama2.c checkpoint (see the top of this file). */
export async function loadModelFiles(files: FileSet, opts: LoadOptions = {}): Promise<LoadedModel> {
  const map = toFileMap(files);
  const text = async (name: string) => findFile(map, name)?.text();
  const tokenizer = { tokenizerJson: await text('tokenizer.json'), tokenizerConfig: await text('tokenizer_config.json') };

  const configText = await text(CONFIG_FILE);
  if (configText !== undefined) {
    const config = parseConfigJson(configText);
    const params = await loadHfWeights(paramLayout(config), await openWeights(map), opts);
    return { config, params, ...tokenizer };
  }
  const [name, blob] = llama2cFile(map);
  const ckpt = await readLlama2c(blob, { fileName: name });
  const config = parseHfConfig(ckpt.config);
  const params = await loadHfWeights(paramLayout(config), llama2cSource(ckpt), opts);
  return { config, params, ...tokenizer };
}
