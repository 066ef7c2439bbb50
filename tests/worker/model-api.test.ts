// The worker's model API without a browser: imports of Hugging Face folders and llama2.c checkpoints
// (stored only when every file checks out), hub downloads from a fake hub, served folders from a fake
// server, and the memory estimate against given limits. IndexedDB is fake-indexeddb.
import 'fake-indexeddb/auto';
import { readFileSync, statSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { byteLevelTokenizerConfig, byteLevelTokenizerJson } from '../../src/data/tokenizer/byte-level';
import type { Engine } from '../../src/gpu/engine';
import { type FetchLike, readSafetensors, writeSafetensors } from '../../src/io';
import { tinyLlama } from '../../src/model/config';
import { exportHfModel } from '../../src/model/hf-weights';
import { initParams } from '../../src/model/init';
import { countText } from '../../src/model/memory';
import { loadModelFiles } from '../../src/model/model-files';
import { paramLayout } from '../../src/model/param-layout';
import type { PlantuneDb } from '../../src/store/db';
import { createModelApi, loadStoredModelFiles } from '../../src/worker/model-api';
import type { ModelApi, ModelDownloadProgress } from '../../src/worker/model-types';
import { llama2cCheckpoint } from '../helpers/llama2c';
import { openTestDb } from '../store/fixtures';

const GiB = 2 ** 30;
const cfg = tinyLlama({ V: 260, C: 16, F: 24, L: 2, NH: 4, NKV: 2, maxT: 32 });
const tokenizerJson = JSON.stringify(byteLevelTokenizerJson());
const tokenizerConfig = JSON.stringify(byteLevelTokenizerConfig(32));

/** A tiny HF folder as exportHfModel writes it, with the byte-level tokenizer and a file the import leaves out. */
function hfFolder(seed: number, c = cfg): { files: File[]; params: Float32Array } {
  const layout = paramLayout(c);
  const params = initParams(layout, seed, 0.5);
  const out = exportHfModel(layout, params);
  return {
    params,
    files: [
      new File([out.configJson], 'config.json'),
      new File([out.safetensors], 'model.safetensors'),
      new File([tokenizerJson], 'tokenizer.json'),
      new File([tokenizerConfig], 'tokenizer_config.json'),
      new File(['# a model card'], 'README.md'),
    ],
  };
}

/** The same weights in two shards with their index. */
async function sharded(single: Blob): Promise<Record<string, Blob>> {
  const st = await readSafetensors(single, 'model.safetensors');
  const names = [...st.names];
  const half = Math.ceil(names.length / 2);
  const shards = [names.slice(0, half), names.slice(half)];
  const files: Record<string, Blob> = {};
  const weightMap: Record<string, string> = {};
  for (const [i, part] of shards.entries()) {
    const file = `model-0000${i + 1}-of-00002.safetensors`;
    const tensors = await Promise.all(part.map(async (name) => ({ name, shape: st.get(name).shape, dtype: 'F32' as const, data: await st.get(name).float32() })));
    files[file] = writeSafetensors(tensors, { format: 'pt' });
    for (const name of part) weightMap[name] = file;
  }
  files['model.safetensors.index.json'] = new Blob([JSON.stringify({ metadata: {}, weight_map: weightMap })]);
  return files;
}

/** A fetch serving `files` by URL: GET and HEAD (with Content-Length), 404 otherwise. Records the requests. */
function fakeServer(files: Record<string, Blob>): { fetch: FetchLike; requests: string[] } {
  const requests: string[] = [];
  return {
    requests,
    fetch: async (url, init) => {
      requests.push(`${init?.method ?? 'GET'} ${url}`);
      const blob = files[url];
      if (!blob) return new Response('not found', { status: 404, headers: { 'x-error-code': 'EntryNotFound' } });
      const headers = { 'content-length': String(blob.size), 'content-type': 'application/octet-stream' };
      return new Response(init?.method === 'HEAD' ? null : blob, { status: 200, headers });
    },
  };
}

async function storedParams(db: PlantuneDb, id: string): Promise<Float32Array> {
  return (await loadModelFiles(await loadStoredModelFiles(db, id))).params;
}

const fakeEngine = async (): Promise<Engine> => ({ gpu: { limits: { maxBufferSize: GiB, maxStorageBufferBindingSize: GiB } } }) as unknown as Engine;

describe('the model API', () => {
  let db: PlantuneDb;
  let api: ModelApi;
  const server: Record<string, Blob> = {};
  beforeEach(async () => {
    db = await openTestDb();
    for (const k of Object.keys(server)) delete server[k];
    api = createModelApi({ openDb: async () => db, engine: fakeEngine, fetch: fakeServer(server).fetch });
  });
  afterEach(() => db.close());

  describe('importModel', () => {
    it('stores a Hugging Face folder as it came, leaving other files out, and it loads back to the same weights', async () => {
      const { files, params } = hfFolder(1);
      const m = await api.importModel(files, 'tiny');
      expect(m).toMatchObject({
        ref: { kind: 'stored', id: m.id }, name: 'tiny', architecture: 'LlamaForCausalLM', family: 'llama', params: paramLayout(cfg).numParams,
        layers: 2, hidden: 16, heads: 4, kvHeads: 2, vocab: 260, context: 32, tiedEmbeddings: false, tokenizer: 'BPE tokenizer, 260 tokens', source: 'files',
      });
      expect(m.files.map((f) => f.name).sort()).toEqual(['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json']);
      expect(m.files.find((f) => f.name === 'model.safetensors')?.bytes).toBe(files[1].size);
      expect(await api.listModels()).toEqual([m]);
      expect(await api.describeModel({ kind: 'stored', id: m.id })).toEqual(m);
      expect(await storedParams(db, m.id)).toEqual(params);
    });

    it('names a model by its folder, else by its shape', async () => {
      const { files } = hfFolder(2);
      const inFolder = files.map((f) => Object.defineProperty(f, 'webkitRelativePath', { value: `my-model/${f.name}` }));
      expect((await api.importModel(inFolder)).name).toBe('my-model');
      expect((await api.importModel(hfFolder(3).files)).name).toBe(`LlamaForCausalLM ${countText(paramLayout(cfg).numParams)}`);
    });

    it('refuses a truncated safetensors file, naming it, and stores nothing', async () => {
      const { files } = hfFolder(4);
      const weights = files[1];
      files[1] = new File([weights.slice(0, weights.size - 100)], 'model.safetensors');
      const err = await api.importModel(files, 'broken').catch((e: Error) => e);
      expect(err).toBeInstanceOf(Error);
      console.log(`truncated safetensors: ${(err as Error).message}`);
      expect((err as Error).message).toMatch(/model\.safetensors/);
      expect(await api.listModels()).toEqual([]);
      expect(await db.modelFiles.count()).toBe(0);
    });

    it('refuses a Hugging Face folder without tokenizer.json, and a tokenizer larger than the vocabulary', async () => {
      const noTokenizer = hfFolder(5).files.filter((f) => f.name !== 'tokenizer.json');
      await expect(api.importModel(noTokenizer)).rejects.toThrow(/^no tokenizer\.json among the files: Plantune needs the model's fast-tokenizer file/);
      const small = hfFolder(6, tinyLlama({ V: 200, C: 16, F: 24, L: 1, NH: 2, NKV: 1, maxT: 32 })).files;
      await expect(api.importModel(small)).rejects.toThrow("tokenizer.json has 260 tokens, more than the model's vocab_size of 200: the tokenizer belongs to another model");
      expect(await api.listModels()).toEqual([]);
    });

    it('refuses two files with the same path', async () => {
      const { files } = hfFolder(7);
      await expect(api.importModel([...files, files[0]])).rejects.toThrow('two of the files are named "config.json" (from different folders?): give only the model folder itself');
    });

    it('converts a llama2.c checkpoint with a 260-token vocabulary to safetensors, with the byte-level tokenizer', async () => {
      const shape = { dim: 16, hiddenDim: 24, nLayers: 2, nHeads: 4, nKvHeads: 2, vocabSize: 260, seqLen: 32 };
      const bin = new File([llama2cCheckpoint(shape, 8)], 'stories.bin');
      const m = await api.importModel([bin]);
      expect(m).toMatchObject({
        name: 'stories', architecture: 'LlamaForCausalLM', layers: 2, hidden: 16, vocab: 260, context: 32,
        tokenizer: 'Plantune byte-level tokenizer, 260 tokens (assumed: the checkpoint came without tokenizer.json)',
        source: 'files: llama2.c stories.bin, converted to safetensors',
      });
      expect(m.files.map((f) => f.name).sort()).toEqual(['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json']);
      expect(await storedParams(db, m.id)).toEqual((await loadModelFiles([bin])).params);
    });

    it('refuses a llama2.c checkpoint of another vocabulary without tokenizer.json, and takes it with one', async () => {
      const shape = { dim: 16, hiddenDim: 24, nLayers: 1, nHeads: 4, nKvHeads: 4, vocabSize: 300, seqLen: 16 };
      const bin = new File([llama2cCheckpoint(shape, 9, true)], 'model.bin');
      await expect(api.importModel([bin])).rejects.toThrow(
        /^model\.bin is a llama2\.c checkpoint with a vocabulary of 300 tokens and no tokenizer\.json came with it: add the tokenizer\.json of its tokenizer/,
      );
      expect(await api.listModels()).toEqual([]);
      const m = await api.importModel([bin, new File([tokenizerJson], 'tokenizer.json')], 'with tokenizer');
      expect(m).toMatchObject({ name: 'with tokenizer', vocab: 300, tiedEmbeddings: true, tokenizer: 'BPE tokenizer, 260 tokens' });
    });

    it('deleteModel removes the model and its files', async () => {
      const m = await api.importModel(hfFolder(10).files);
      await api.deleteModel(m.id);
      expect(await api.listModels()).toEqual([]);
      expect(await db.modelFiles.count()).toBe(0);
      await expect(api.describeModel({ kind: 'stored', id: m.id })).rejects.toThrow(`there is no stored model "${m.id}"`);
    });
  });

  describe('importHubModel (a fake hub)', () => {
    const hub = 'https://huggingface.co/plantune/tiny-sharded/resolve/main/';

    it('downloads a sharded checkpoint with progress, checks and stores it', async () => {
      const { files, params } = hfFolder(11);
      const byName = Object.fromEntries(files.map((f) => [f.name, f as Blob]));
      for (const [name, blob] of Object.entries({ ...byName, ...(await sharded(byName['model.safetensors'])) })) {
        if (name !== 'model.safetensors') server[`${hub}${name}`] = blob;
      }
      const events: ModelDownloadProgress[] = [];
      const m = await api.importHubModel('plantune/tiny-sharded', (p) => events.push(p));
      expect(m).toMatchObject({ name: 'plantune/tiny-sharded', source: 'hub plantune/tiny-sharded@main', params: paramLayout(cfg).numParams });
      expect(m.files.map((f) => f.name).sort()).toEqual([
        'config.json', 'model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors', 'model.safetensors.index.json', 'tokenizer.json', 'tokenizer_config.json',
      ]);
      expect(await storedParams(db, m.id)).toEqual(params);
      const downloaded = Object.entries(server).filter(([url]) => !url.endsWith('README.md')).reduce((n, [, b]) => n + b.size, 0);
      expect(events.at(-1)).toMatchObject({ loadedAll: downloaded, totalAll: downloaded });
      expect(events.slice(0, -1).every((e) => e.totalAll === null)).toBe(true);
      expect(events.map((e) => e.loadedAll)).toEqual([...events.map((e) => e.loadedAll)].sort((a, b) => a - b));
      expect(new Set(events.map((e) => e.file))).toEqual(new Set(m.files.map((f) => f.name)));
    });

    it('a repo that is not there fails with the hub\'s message and stores nothing', async () => {
      await expect(api.importHubModel('nobody/nothing')).rejects.toThrow(/^Hugging Face hub: repo or file not found: "config\.json" in "nobody\/nothing"/);
      await expect(api.importHubModel('not a repo id')).rejects.toThrow(/is not a Hugging Face repo id/);
      expect(await api.listModels()).toEqual([]);
    });
  });

  describe('served folders', () => {
    it('describes the default model from its files: 1.25M parameters, Llama, 6 layers', async () => {
      for (const name of ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json']) {
        server[`/models/plantune-tiny/${name}`] = new Blob([readFileSync(`public/models/plantune-tiny/${name}`)]);
      }
      const m = await api.describeModel({ kind: 'default' });
      expect(m).toMatchObject({ ref: { kind: 'default' }, name: 'plantune-tiny', architecture: 'LlamaForCausalLM', family: 'llama', layers: 6, hidden: 128, heads: 4, kvHeads: 2, vocab: 260, context: 640 });
      expect(countText(m.params)).toBe('1.25M');
      expect(m.tokenizer).toBe('BPE tokenizer, 260 tokens');
      expect(m.files).toEqual(['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json'].map((name) => ({ name, bytes: statSync(`public/models/plantune-tiny/${name}`).size })));
    });

    it('describes a sharded served folder from HEAD requests, and says what is missing', async () => {
      const { files } = hfFolder(12);
      const byName = Object.fromEntries(files.map((f) => [f.name, f as Blob]));
      const shards = await sharded(byName['model.safetensors']);
      for (const [name, blob] of Object.entries({ 'config.json': byName['config.json'], ...shards })) server[`/m/tiny/${name}`] = blob;
      const m = await api.describeModel({ kind: 'dir', dir: '/m/tiny' });
      expect(m).toMatchObject({ name: 'tiny', tokenizer: 'none (no tokenizer.json)', params: paramLayout(cfg).numParams });
      expect(m.files.map((f) => f.name)).toEqual(['config.json', 'model.safetensors.index.json', 'model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors']);
      delete server['/m/tiny/model-00002-of-00002.safetensors'];
      await expect(api.describeModel({ kind: 'dir', dir: '/m/tiny/' })).rejects.toThrow('/m/tiny/model-00002-of-00002.safetensors, a shard named in model.safetensors.index.json, is missing');
      await expect(api.describeModel({ kind: 'dir', dir: '/m/none' })).rejects.toThrow("the model's config.json is missing: /m/none/config.json (HTTP 404)");
    });
  });

  describe('estimateMemory', () => {
    it('estimates a stored model on the engine\'s limits: full, LoRA, and a plan that does not fit', async () => {
      const m = await api.importModel(hfFolder(13).files);
      const ref = { kind: 'stored' as const, id: m.id };
      const full = await api.estimateMemory(ref, { batch: 2, seq: 32 });
      expect(full).toMatchObject({ fits: true, problems: [], limits: { maxBufferSize: GiB, maxStorageBufferBindingSize: GiB } });
      const lora = await api.estimateMemory(ref, { batch: 2, seq: 32, loraRank: 2 });
      expect(lora.grads).toBeLessThan(full.grads);
      const huge = await api.estimateMemory(ref, { batch: 100_000, seq: 32 });
      expect(huge.fits).toBe(false);
      expect(huge.problems[0]).toMatch(/^batch 100000 × seq 32 needs 3\.3 GiB for the logits \(3200000 tokens × 260 vocab\) in one buffer.*: lower batch or seq$/);
      const long = await api.estimateMemory(ref, { batch: 1, seq: 64 });
      expect(long.problems).toEqual(["seq 64 exceeds the model's context of 32 tokens: lower seq"]);
    });
  });
});
