// Sharded Hugging Face checkpoints: `model.safetensors.index.json`
//   { "metadata": { "total_size": ... }, "weight_map": { tensor name: shard file name } }
// over the shard files (dropped files, IndexedDB blobs, or downloads). Each shard's
// header is read once; the result is one `name -> lazy tensor` view of the model.
//
// `openWeights` is the entry point for "a folder of files": it picks the single-file
// `model.safetensors` or the index + shards, whichever is there.
import { WeightFileError, blobName } from './errors';
import { type LazyTensor, type SafetensorsFile, type WeightSource, preview, readSafetensors } from './safetensors';

export const INDEX_FILE = 'model.safetensors.index.json';
export const SINGLE_FILE = 'model.safetensors';

export interface ShardIndex {
  metadata: Record<string, unknown>;
  /** tensor name -> shard file name */
  weight_map: Record<string, string>;
}

/** Named files: a Map, a plain record, or a list of Files (named by `File.name`). */
export type FileSet = ReadonlyMap<string, Blob> | Readonly<Record<string, Blob>> | readonly File[];

export interface ShardedCheckpoint extends WeightSource {
  readonly index: ShardIndex;
  /** Each shard, opened once, by its name in the index. */
  readonly shards: ReadonlyMap<string, SafetensorsFile>;
  /** Shard file of each tensor. */
  shardOf(name: string): string;
  /** Tensors present in a shard but not listed in the index (ignored, as transformers does). */
  readonly unlisted: readonly string[];
}

/** Normalises a FileSet to a Map keyed by the names the caller gave. */
export function toFileMap(files: FileSet): Map<string, Blob> {
  if (files instanceof Map) return new Map(files);
  if (Array.isArray(files)) return new Map((files as readonly File[]).map((f) => [f.name, f as Blob]));
  return new Map(Object.entries(files as Record<string, Blob>));
}

function basename(path: string): string {
  const i = Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\'));
  return i < 0 ? path : path.slice(i + 1);
}

/**
 * Finds `name` in the set: exactly, else by base name (a dropped folder gives paths
 * like "my-model/model-00001-of-00002.safetensors"). Ambiguous base names fail.
 */
export function findFile(files: ReadonlyMap<string, Blob>, name: string): Blob | undefined {
  const exact = files.get(name);
  if (exact) return exact;
  const want = basename(name);
  const hits = [...files.entries()].filter(([k]) => basename(k) === want);
  if (hits.length > 1) {
    throw new Error(`several files are named "${want}" (${hits.map(([k]) => k).join(', ')}); give only one model folder`);
  }
  return hits[0]?.[1];
}

/** Parses and validates a `model.safetensors.index.json` text. */
export function parseShardIndex(text: string, fileName = INDEX_FILE): ShardIndex {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new WeightFileError(fileName, `not valid JSON (${(e as Error).message})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new WeightFileError(fileName, 'is not a JSON object');
  const { weight_map: map, metadata } = json as Record<string, unknown>;
  if (typeof map !== 'object' || map === null || Array.isArray(map)) {
    throw new WeightFileError(fileName, 'has no "weight_map" object (tensor name -> shard file)');
  }
  const weightMap: Record<string, string> = {};
  for (const [name, shard] of Object.entries(map as Record<string, unknown>)) {
    if (typeof shard !== 'string' || shard.length === 0) {
      throw new WeightFileError(fileName, `weight_map entry "${name}" is not a file name: ${JSON.stringify(shard)}`, name);
    }
    weightMap[name] = shard;
  }
  if (Object.keys(weightMap).length === 0) throw new WeightFileError(fileName, '"weight_map" is empty');
  const meta = typeof metadata === 'object' && metadata !== null && !Array.isArray(metadata) ? (metadata as Record<string, unknown>) : {};
  return { metadata: meta, weight_map: weightMap };
}

/**
 * Opens a sharded checkpoint: the index (parsed, text, or the index Blob itself) and
 * the shard files. Reads each shard's header once (in parallel), then checks that
 * every tensor the index lists is in the shard it names.
 */
export async function openSharded(index: ShardIndex | string | Blob, files: FileSet, indexName = INDEX_FILE): Promise<ShardedCheckpoint> {
  if (index instanceof Blob) {
    indexName = blobName(index, indexName);
    index = await index.text();
  }
  const idx = typeof index === 'string' ? parseShardIndex(index, indexName) : index;
  const fileMap = toFileMap(files);

  const shardNames = [...new Set(Object.values(idx.weight_map))];
  const byShard = new Map<string, string[]>();
  for (const [name, shard] of Object.entries(idx.weight_map)) {
    const list = byShard.get(shard);
    if (list) list.push(name);
    else byShard.set(shard, [name]);
  }
  const missing = shardNames.filter((s) => !findFile(fileMap, s));
  if (missing.length > 0) {
    const given = [...fileMap.keys()];
    throw new WeightFileError(
      indexName,
      `lists shard file(s) ${missing.map((s) => `"${s}" (${byShard.get(s)!.length} tensors, e.g. "${byShard.get(s)![0]}")`).join(', ')} ` +
        `that were not given. Files given: ${preview(given, 8)}. Add every shard of the model.`,
    );
  }

  const opened = await Promise.all(shardNames.map((s) => readSafetensors(findFile(fileMap, s)!, s)));
  const shards = new Map(shardNames.map((s, i) => [s, opened[i]]));

  for (const [shard, names] of byShard) {
    const file = shards.get(shard)!;
    const absent = names.filter((n) => !file.has(n));
    if (absent.length > 0) {
      throw new WeightFileError(
        shard,
        `${indexName} lists tensor(s) ${preview(absent)} in this shard, but the file does not contain them ` +
          '(shards from a different revision of the model?)',
        absent[0],
      );
    }
  }

  const unlisted: string[] = [];
  for (const [shard, file] of shards) for (const n of file.names) if (idx.weight_map[n] !== shard) unlisted.push(n);

  // Names in shard order, then file order within a shard.
  const names = shardNames.flatMap((s) => shards.get(s)!.names.filter((n) => idx.weight_map[n] === s));
  const lookup = (name: string): LazyTensor | undefined => {
    const shard = idx.weight_map[name];
    return shard === undefined ? undefined : shards.get(shard)!.get(name);
  };
  return {
    index: idx,
    shards,
    unlisted,
    names,
    metadata: opened[0]?.metadata ?? {},
    has: (name) => Object.prototype.hasOwnProperty.call(idx.weight_map, name),
    get: (name) => {
      const t = Object.prototype.hasOwnProperty.call(idx.weight_map, name) ? lookup(name) : undefined;
      if (!t) throw new WeightFileError(indexName, `has no tensor "${name}" in its weight_map (${names.length} tensors: ${preview(names)})`, name);
      return t;
    },
    shardOf: (name) => {
      const s = idx.weight_map[name];
      if (s === undefined) throw new WeightFileError(indexName, `has no tensor "${name}" in its weight_map`, name);
      return s;
    },
  };
}

/**
 * The weights of a model folder: `model.safetensors` if present, else
 * `model.safetensors.index.json` + its shards. Fails clearly when neither is there
 * (e.g. only `pytorch_model.bin`, which a browser cannot unpickle safely).
 */
export async function openWeights(files: FileSet): Promise<WeightSource> {
  const fileMap = toFileMap(files);
  const single = findFile(fileMap, SINGLE_FILE);
  if (single) return readSafetensors(single, SINGLE_FILE);
  const index = findFile(fileMap, INDEX_FILE);
  if (index) return openSharded(index, fileMap, INDEX_FILE);
  const others = [...fileMap.keys()].filter((k) => k.endsWith('.safetensors') && basename(k) !== 'adapter_model.safetensors');
  if (others.length === 1) return readSafetensors(fileMap.get(others[0])!, others[0]);
  const given = preview([...fileMap.keys()], 8);
  const hint = [...fileMap.keys()].some((k) => /\.(bin|pt|pth|ckpt)$/.test(k))
    ? ' PyTorch pickles (.bin/.pt) cannot be read in the browser: convert them to safetensors first (or load a llama2.c .bin as such).'
    : '';
  throw new Error(`no weights found: expected "${SINGLE_FILE}" or "${INDEX_FILE}" with its shards. Files given: ${given}.${hint}`);
}
