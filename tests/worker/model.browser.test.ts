// The trainer worker's model API in a real browser: the served default model described, its memory
// estimated on this adapter (a huge plan refused, naming batch and seq), a Hugging Face folder and a
// llama2.c checkpoint imported into IndexedDB and loaded back, a truncated file refused with nothing stored.
import * as Comlink from 'comlink';
import { afterAll, describe, expect, it } from 'vitest';
import { byteLevelTokenizerConfig, byteLevelTokenizerJson } from '../../src/data/tokenizer/byte-level';
import { parseHfConfig, tinyLlama } from '../../src/model/config';
import { exportHfModel } from '../../src/model/hf-weights';
import { initParams } from '../../src/model/init';
import { countText } from '../../src/model/memory';
import { loadModelFiles } from '../../src/model/model-files';
import { paramLayout } from '../../src/model/param-layout';
import { openPlantuneDb } from '../../src/store/db';
import type { ModelImportProgress, TrainerApi } from '../../src/worker/api';
import { loadStoredModelFiles } from '../../src/worker/model-api';
import { llama2cCheckpoint } from '../helpers/llama2c';

const worker = new Worker(new URL('../../src/worker/trainer.worker.ts', import.meta.url), { type: 'module' });
const api = Comlink.wrap<TrainerApi>(worker);
// The worker uses the default database; the page shares it (same origin) to look inside.
const db = await openPlantuneDb();
const imported: string[] = [];

afterAll(async () => {
  for (const id of imported) await api.deleteModel(id);
  db.close();
  api[Comlink.releaseProxy]();
  worker.terminate();
});

const cfg = tinyLlama({ V: 260, C: 32, F: 48, L: 2, NH: 4, NKV: 2, maxT: 64 });

function hfFolder(seed: number): { files: File[]; params: Float32Array } {
  const layout = paramLayout(cfg);
  const params = initParams(layout, seed, 0.5);
  const out = exportHfModel(layout, params);
  return {
    params,
    files: [
      new File([out.configJson], 'config.json'),
      new File([out.safetensors], 'model.safetensors'),
      new File([JSON.stringify(byteLevelTokenizerJson())], 'tokenizer.json'),
      new File([JSON.stringify(byteLevelTokenizerConfig(64))], 'tokenizer_config.json'),
    ],
  };
}

const storedIds = async (): Promise<string[]> => (await api.listModels()).map((m) => m.id);

describe('the model API in the trainer worker', () => {
  it('describes the default model: 1.25M parameters, Llama, 6 layers, its files', async () => {
    const m = await api.describeModel({ kind: 'default' });
    expect(m).toMatchObject({ name: 'plantune-tiny', architecture: 'LlamaForCausalLM', family: 'llama', layers: 6, hidden: 128, heads: 4, kvHeads: 2, vocab: 260, context: 640 });
    const config = parseHfConfig(await (await fetch('/models/plantune-tiny/config.json')).json());
    expect(m.params).toBe(paramLayout(config).numParams);
    expect(countText(m.params)).toBe('1.25M');
    expect(m.tokenizer).toBe('BPE tokenizer, 260 tokens');
    expect(m.files.find((f) => f.name === 'model.safetensors')?.bytes).toBe(4997512);
  });

  it('estimates the default model on this adapter: batch 8 × seq 256 fits, batch 4096 × seq 640 does not', async () => {
    const ok = await api.estimateMemory({ kind: 'default' }, { batch: 8, seq: 256 });
    console.log(`default model, batch 8 × seq 256: ${(ok.total / 2 ** 20).toFixed(1)} MiB; limits ${JSON.stringify(ok.limits)}`);
    expect(ok.fits).toBe(true);
    expect(ok.limits.maxBufferSize).toBeGreaterThan(0);
    const huge = await api.estimateMemory({ kind: 'default' }, { batch: 4096, seq: 640, loraRank: 8 });
    console.log(`batch 4096 × seq 640: ${huge.problems.join(' | ')}`);
    expect(huge.fits).toBe(false);
    expect(huge.problems.length).toBeGreaterThan(0);
    expect(huge.problems.every((p) => p.startsWith('batch 4096 × seq 640') && p.includes('lower batch or seq'))).toBe(true);
  });

  it('imports a Hugging Face folder with progress; the stored files load back to the same weights', async () => {
    const { files, params } = hfFolder(1);
    const progress: ModelImportProgress[] = [];
    const m = await api.importModel(files, 'tiny hf', Comlink.proxy((p: ModelImportProgress) => void progress.push(p)));
    imported.push(m.id);
    expect(m).toMatchObject({ name: 'tiny hf', architecture: 'LlamaForCausalLM', params: paramLayout(cfg).numParams, source: 'files' });
    expect(progress.some((p) => p.phase === 'checking')).toBe(true);
    expect(progress.at(-1)).toMatchObject({ phase: 'storing' });
    expect(await storedIds()).toContain(m.id);
    expect((await loadModelFiles(await loadStoredModelFiles(db, m.id))).params).toEqual(params);
  });

  it('refuses a truncated safetensors file, naming it, and stores nothing', async () => {
    const { files } = hfFolder(2);
    files[1] = new File([files[1].slice(0, files[1].size - 64)], 'model.safetensors');
    const before = await storedIds();
    await expect(api.importModel(files, 'broken')).rejects.toThrow(/^model\.safetensors: .*file truncated\?/);
    expect(await storedIds()).toEqual(before);
  });

  it('imports a llama2.c checkpoint, converted to safetensors with the byte-level tokenizer', async () => {
    const shape = { dim: 32, hiddenDim: 48, nLayers: 2, nHeads: 4, nKvHeads: 2, vocabSize: 260, seqLen: 64 };
    const bin = new File([llama2cCheckpoint(shape, 3)], 'stories-tiny.bin');
    const m = await api.importModel([bin]);
    imported.push(m.id);
    expect(m).toMatchObject({ name: 'stories-tiny', layers: 2, hidden: 32, vocab: 260, context: 64, source: 'files: llama2.c stories-tiny.bin, converted to safetensors' });
    expect(m.tokenizer).toMatch(/^Plantune byte-level tokenizer, 260 tokens/);
    expect(m.files.map((f) => f.name).sort()).toEqual(['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json']);
    expect((await loadModelFiles(await loadStoredModelFiles(db, m.id))).params).toEqual((await loadModelFiles([bin])).params);
    const est = await api.estimateMemory({ kind: 'stored', id: m.id }, { batch: 2, seq: 64 });
    expect(est.fits).toBe(true);
  });
});
