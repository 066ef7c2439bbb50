// Models: a config plus named files (weights as safetensors, tokenizer.json,
// tokenizer_config.json, ...), each file stored in chunks in `modelFiles`.
import type { PlantuneDb } from './db';
import { DEFAULT_CHUNK_BYTES, type FileData, type StoredFile, chunkFiles, joinChunks, totalBytes } from './chunks';
import { guardStorage } from './errors';

/** What the model list shows without reading any file. */
export interface ModelMeta {
  /** Where the model came from: "files", "files: llama2.c model.bin, converted to safetensors", "hub owner/name@main". */
  source: string;
  /** The tokenizer, e.g. "BPE tokenizer, 49152 tokens". */
  tokenizer: string;
}

export interface ModelRecord {
  id: string;
  name: string;
  createdAt: number;
  /** The model's configuration as JSON (a Hugging Face config.json, or its equivalent). */
  config: unknown;
  files: StoredFile[];
  meta?: ModelMeta;
}

export interface NewModel {
  id: string;
  name: string;
  config: unknown;
  createdAt?: number;
  meta?: ModelMeta;
}

/** Stores a model and its files in one transaction, replacing any model with the same id. */
export async function putModel(
  db: PlantuneDb,
  model: NewModel,
  files: Record<string, FileData>,
  { chunkBytes = DEFAULT_CHUNK_BYTES }: { chunkBytes?: number } = {},
): Promise<ModelRecord> {
  const chunked = chunkFiles(files, chunkBytes);
  const record: ModelRecord = {
    ...model,
    createdAt: model.createdAt ?? Date.now(),
    files: chunked.map(({ file }) => file),
  };
  await guardStorage(
    `model "${model.name}"`,
    () =>
      db.transaction('rw', db.models, db.modelFiles, async () => {
        await db.modelFiles.where('modelId').equals(model.id).delete();
        for (const { file, chunks } of chunked) {
          await db.modelFiles.bulkPut(chunks.map((data, index) => ({ modelId: model.id, name: file.name, index, data })));
        }
        await db.models.put(record);
      }),
    () => totalBytes(files),
  );
  return record;
}

export function getModel(db: PlantuneDb, id: string): Promise<ModelRecord | undefined> {
  return guardStorage('model', () => db.models.get(id));
}

/** Newest first. */
export function listModels(db: PlantuneDb): Promise<ModelRecord[]> {
  return guardStorage('models', () => db.models.orderBy('createdAt').reverse().toArray());
}

/** One file of a model, joined from its chunks; undefined when the model has no such file. */
export function getModelFile(db: PlantuneDb, modelId: string, name: string): Promise<Blob | undefined> {
  return guardStorage('model file', () =>
    db.transaction('r', db.models, db.modelFiles, async () => {
      const file = (await db.models.get(modelId))?.files.find((f) => f.name === name);
      if (!file) return undefined;
      const rows = await db.modelFiles
        .where('[modelId+name+index]')
        .between([modelId, name, 0], [modelId, name, file.chunks], true, false)
        .toArray();
      return joinChunks(file, rows.map((row) => row.data));
    }),
  );
}

/** Deletes a model and its files, in one transaction. */
export function deleteModel(db: PlantuneDb, id: string): Promise<void> {
  return guardStorage('model deletion', () =>
    db.transaction('rw', db.models, db.modelFiles, async () => {
      await db.modelFiles.where('modelId').equals(id).delete();
      await db.models.delete(id);
    }),
  );
}
