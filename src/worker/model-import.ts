// Importing a model: the files of a Hugging Face folder or a llama2.c checkpoint, dropped by the user
// or downloaded from the hub, are checked in full — config, every weight, the tokenizer — and only
// then stored, so a bad file is an error that names it and nothing is kept.
//
// A Hugging Face folder is stored as it came (config.json, the safetensors file or the index and its
// shards, tokenizer.json, tokenizer_config.json, generation_config.json); other files are left out.
// A llama2.c checkpoint is stored converted: config.json and one model.safetensors in HF Llama names.
// It needs a tokenizer.json, except that a 260-token vocabulary is taken for Plantune's byte-level
// tokenizer (what a Plantune-trained model uses): llama2.c's own tokenizer.bin cannot be read.
import { BYTE_VOCAB_SIZE, byteLevelTokenizerConfig, byteLevelTokenizerJson } from '../data/tokenizer/byte-level';
import { loadTokenizer } from '../data/tokenizer/load';
import { INDEX_FILE, SINGLE_FILE, findFile, parseShardIndex } from '../io';
import type { ModelConfig } from '../model/config';
import { exportHfModel } from '../model/hf-weights';
import { countText } from '../model/memory';
import { type LoadedModel, loadModelFiles } from '../model/model-files';
import { paramLayout } from '../model/param-layout';
import type { PlantuneDb } from '../store/db';
import { type ModelRecord, putModel } from '../store/models';
import type { ModelImportProgress } from './model-types';

const CONFIG_FILE = 'config.json';
const TOKENIZER_FILE = 'tokenizer.json';
/** Kept when present (the tokenizer's files are kept with the tokenizer). */
const GENERATION_CONFIG = 'generation_config.json';

/** The last part of a path. */
export function baseName(path: string): string {
  return path.slice(Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\')) + 1);
}

/** The weight files of a HF folder that loadModelFiles read: the single file, or the index and every shard it names. */
async function weightFiles(files: Map<string, Blob>): Promise<Record<string, Blob>> {
  const single = findFile(files, SINGLE_FILE);
  if (single) return { [SINGLE_FILE]: single };
  const index = findFile(files, INDEX_FILE);
  if (index) {
    const shards = new Set(Object.values(parseShardIndex(await index.text(), INDEX_FILE).weight_map));
    return Object.fromEntries([[INDEX_FILE, index], ...[...shards].map((s) => [baseName(s), findFile(files, s)!] as const)]);
  }
  // openWeights took the one other .safetensors file there is.
  const [path, blob] = [...files].find(([k]) => k.endsWith('.safetensors') && baseName(k) !== 'adapter_model.safetensors')!;
  return { [baseName(path)]: blob };
}

/** Loads a tokenizer as a run will and describes it: "BPE tokenizer, 49152 tokens". */
export async function describeTokenizer(text: string, configText?: string, kind?: string): Promise<{ vocab: number; summary: string }> {
  let vocab: number;
  try {
    vocab = (await loadTokenizer(text, configText)).vocabSize;
  } catch (e) {
    throw new Error(`the tokenizer cannot be loaded: ${e instanceof Error ? e.message : String(e)}`);
  }
  const type = (JSON.parse(text) as { model?: { type?: unknown } }).model?.type;
  return { vocab, summary: `${kind ?? (typeof type === 'string' ? type : 'HF')} tokenizer, ${vocab} tokens` };
}

/** The tokenizer files to store and a one-line description, after loading the tokenizer as a run will. */
async function tokenizerFiles(loaded: LoadedModel, hf: boolean, checkpoint: string): Promise<{ files: Record<string, Blob>; summary: string }> {
  const { V, maxT } = loaded.config;
  let text = loaded.tokenizerJson;
  let configText = loaded.tokenizerConfig;
  let assumed = false;
  if (text === undefined) {
    if (hf) {
      throw new Error(
        `no ${TOKENIZER_FILE} among the files: Plantune needs the model's fast-tokenizer file from the same Hugging Face repo ` +
          '(a folder with only tokenizer.model or vocab.json + merges.txt must be converted first: AutoTokenizer.from_pretrained(...).save_pretrained(...) writes it)',
      );
    }
    if (V !== BYTE_VOCAB_SIZE) {
      throw new Error(
        `${checkpoint} is a llama2.c checkpoint with a vocabulary of ${V} tokens and no ${TOKENIZER_FILE} came with it: add the ${TOKENIZER_FILE} of its tokenizer ` +
          `(llama2.c's tokenizer.bin cannot be read; for Llama 2's 32000-token vocabulary, the ${TOKENIZER_FILE} of a Llama 2 model on the Hugging Face hub). ` +
          `Only a ${BYTE_VOCAB_SIZE}-token vocabulary is taken for Plantune's byte-level tokenizer.`,
      );
    }
    text = JSON.stringify(byteLevelTokenizerJson());
    configText = JSON.stringify(byteLevelTokenizerConfig(maxT));
    assumed = true;
  }
  const { vocab, summary } = await describeTokenizer(text, configText, assumed ? 'Plantune byte-level' : undefined);
  if (vocab > V) {
    throw new Error(`${TOKENIZER_FILE} has ${vocab} tokens, more than the model's vocab_size of ${V}: the tokenizer belongs to another model`);
  }
  const files: Record<string, Blob> = { [TOKENIZER_FILE]: new Blob([text], { type: 'application/json' }) };
  if (configText !== undefined) files['tokenizer_config.json'] = new Blob([configText], { type: 'application/json' });
  return { files, summary: assumed ? `${summary} (assumed: the checkpoint came without ${TOKENIZER_FILE})` : summary };
}

/** A name for a model when the user gives none: the dropped folder's, the checkpoint's, the config's, or its shape. */
function defaultModelName(paths: string[], hfConfig: Record<string, unknown>, config: ModelConfig): string {
  const folder = paths.find((p) => p.includes('/'))?.split('/')[0];
  if (folder) return folder;
  const bin = paths.find((p) => p.endsWith('.bin'));
  if (!paths.some((p) => baseName(p) === CONFIG_FILE) && bin) return baseName(bin).replace(/\.bin$/, '');
  const named = hfConfig._name_or_path;
  if (typeof named === 'string' && named.trim() && !named.startsWith('/')) return named.trim();
  return `${config.architecture} ${countText(paramLayout(config).numParams)}`;
}

/**
 * Checks the model in `files` (keyed by path: "folder/config.json" or plain names) and stores it.
 * `source` says where it came from ("files", "hub owner/name@main").
 */
export async function importModelFiles(
  db: PlantuneDb,
  files: Map<string, Blob>,
  opts: { name?: string; source: string; onProgress?: (p: ModelImportProgress) => void },
): Promise<ModelRecord> {
  if (files.size === 0) throw new Error('no files given: choose a model folder (config.json, *.safetensors, tokenizer.json) or a llama2.c .bin');
  const onProgress = opts.onProgress;
  const loaded = await loadModelFiles(files, { onProgress: onProgress && ((p) => onProgress({ phase: 'checking', file: p.tensor, loaded: p.loaded, total: p.total })) });
  const hf = findFile(files, CONFIG_FILE) !== undefined;
  const checkpoint = hf ? '' : baseName([...files.keys()].find((k) => k.endsWith('.bin') && baseName(k) !== 'tokenizer.bin') ?? 'the checkpoint');
  const tokenizer = await tokenizerFiles(loaded, hf, checkpoint);

  let hfConfig: Record<string, unknown>;
  let stored: Record<string, Blob>;
  if (hf) {
    const configBlob = findFile(files, CONFIG_FILE)!;
    hfConfig = JSON.parse(await configBlob.text()) as Record<string, unknown>;
    stored = { [CONFIG_FILE]: configBlob, ...(await weightFiles(files)) };
    const generation = findFile(files, GENERATION_CONFIG);
    if (generation) stored[GENERATION_CONFIG] = generation;
  } else {
    const out = exportHfModel(paramLayout(loaded.config), loaded.params);
    hfConfig = JSON.parse(out.configJson) as Record<string, unknown>;
    stored = { [CONFIG_FILE]: new Blob([out.configJson], { type: 'application/json' }), [SINGLE_FILE]: out.safetensors };
  }
  Object.assign(stored, tokenizer.files);

  const total = Object.values(stored).reduce((n, b) => n + b.size, 0);
  onProgress?.({ phase: 'storing', file: '', loaded: 0, total });
  const name = opts.name?.trim() || defaultModelName([...files.keys()], hfConfig, loaded.config);
  const source = hf ? opts.source : `${opts.source}: llama2.c ${checkpoint}, converted to safetensors`;
  const record = await putModel(db, { id: crypto.randomUUID(), name, config: hfConfig, meta: { source, tokenizer: tokenizer.summary } }, stored);
  onProgress?.({ phase: 'storing', file: '', loaded: total, total });
  return record;
}
