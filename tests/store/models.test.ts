import 'fake-indexeddb/auto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PlantuneDb } from '../../src/store/db';
import { deleteModel, getModel, getModelFile, listModels, putModel } from '../../src/store/models';
import { blobBytes, bytes, openTestDb } from './fixtures';

describe('models', () => {
  let db: PlantuneDb;
  beforeEach(async () => (db = await openTestDb()));
  afterEach(() => db.close());

  it('stores Blob, ArrayBuffer and typed-array files in chunks and reads them back exactly', async () => {
    const weights = bytes(1000, 1);
    const backing = bytes(64, 2);
    const view = backing.subarray(5, 50); // a view with an offset into a larger buffer
    const tokenizer = JSON.stringify({ model: { type: 'BPE' } });
    const record = await putModel(
      db,
      { id: 'tiny', name: 'Tiny', config: { hidden_size: 64, num_hidden_layers: 2 } },
      {
        'model.safetensors': new Blob([weights]),
        'extra.bin': weights.buffer.slice(0, 333),
        'view.bin': view,
        'tokenizer.json': new Blob([tokenizer]),
        'empty.bin': new ArrayBuffer(0),
      },
      { chunkBytes: 128 },
    );
    expect(record.files).toEqual([
      { name: 'model.safetensors', bytes: 1000, chunks: 8 },
      { name: 'extra.bin', bytes: 333, chunks: 3 },
      { name: 'view.bin', bytes: 45, chunks: 1 },
      { name: 'tokenizer.json', bytes: tokenizer.length, chunks: 1 },
      { name: 'empty.bin', bytes: 0, chunks: 0 },
    ]);
    expect(await db.modelFiles.count()).toBe(13);

    expect(await blobBytes(await getModelFile(db, 'tiny', 'model.safetensors'))).toEqual(weights);
    expect(await blobBytes(await getModelFile(db, 'tiny', 'extra.bin'))).toEqual(weights.slice(0, 333));
    expect(await blobBytes(await getModelFile(db, 'tiny', 'view.bin'))).toEqual(backing.slice(5, 50));
    expect(await (await getModelFile(db, 'tiny', 'tokenizer.json'))?.text()).toBe(tokenizer);
    expect((await getModelFile(db, 'tiny', 'empty.bin'))?.size).toBe(0);
    expect(await getModelFile(db, 'tiny', 'missing.bin')).toBeUndefined();
    expect(await getModelFile(db, 'nope', 'model.safetensors')).toBeUndefined();
    expect((await getModel(db, 'tiny'))?.config).toEqual({ hidden_size: 64, num_hidden_layers: 2 });
  });

  it('replaces a model stored again under the same id, leaving no stale chunks', async () => {
    await putModel(db, { id: 'm', name: 'M', config: {} }, { 'a.bin': bytes(500), 'b.bin': bytes(10) }, { chunkBytes: 100 });
    await putModel(db, { id: 'm', name: 'M2', config: {} }, { 'a.bin': bytes(150, 3) }, { chunkBytes: 100 });
    expect(await db.modelFiles.count()).toBe(2);
    expect(await blobBytes(await getModelFile(db, 'm', 'a.bin'))).toEqual(bytes(150, 3));
    expect(await getModelFile(db, 'm', 'b.bin')).toBeUndefined();
    expect((await getModel(db, 'm'))?.name).toBe('M2');
  });

  it('refuses to return a file whose chunks are missing', async () => {
    await putModel(db, { id: 'm', name: 'M', config: {} }, { 'a.bin': bytes(300) }, { chunkBytes: 100 });
    await db.modelFiles.delete(['m', 'a.bin', 1]);
    await expect(getModelFile(db, 'm', 'a.bin')).rejects.toThrow(/"a.bin" is incomplete: 2\/3 chunks/);
  });

  it('lists newest first and deletes a model with all its files', async () => {
    await putModel(db, { id: 'a', name: 'A', config: {}, createdAt: 1 }, { 'w.bin': bytes(300) }, { chunkBytes: 100 });
    await putModel(db, { id: 'b', name: 'B', config: {}, createdAt: 2 }, { 'w.bin': bytes(300) }, { chunkBytes: 100 });
    expect((await listModels(db)).map((m) => m.id)).toEqual(['b', 'a']);
    await deleteModel(db, 'a');
    expect(await getModel(db, 'a')).toBeUndefined();
    expect(await db.modelFiles.where('modelId').equals('a').count()).toBe(0);
    expect(await db.modelFiles.where('modelId').equals('b').count()).toBe(3);
  });
});
