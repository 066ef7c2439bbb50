// Import/export of weights wired to the model: HF safetensors round trips per family (GPT-2's
// c_attn split/join and Conv1D transpose checked by hand), bare and dtype-converted checkpoints,
// sharded folders, LoRA merged into an export, PEFT adapters, llama2.c files, and the errors a
// user sees for a wrong file.
import { describe, expect, it } from 'vitest';
import { type TensorToWrite, WeightFileError, bf16ToF32, f16ToF32, f32ToBf16, f32ToF16, readSafetensors, writeSafetensors } from '../../src/io';
import { type ModelConfig, ModelConfigError, parseHfConfig, tinyGpt2, tinyLlama } from '../../src/model/config';
import { exportHfModel, loadHfWeights, mergeLoraInto } from '../../src/model/hf-weights';
import { exportPeft, importPeft } from '../../src/model/lora-io';
import { loadModelFiles } from '../../src/model/model-files';
import { type LoraSpec, type ParamLayout, paramLayout, tensorSpec, view } from '../../src/model/param-layout';
import { randomBatch, randomLora, randomParams } from '../helpers/model-data';
import { refForward } from '../reference/model';

const f64 = (a: Float32Array) => Float64Array.from(a);

/** Every tensor of a safetensors blob, as f32 tensors to write. */
async function tensorsOf(blob: Blob): Promise<(TensorToWrite & { data: Float32Array })[]> {
  const file = await readSafetensors(blob);
  return Promise.all(file.names.map(async (name) => ({ name, shape: file.get(name).shape, dtype: 'F32' as const, data: await file.get(name).float32() })));
}

/** The tensors of a safetensors blob passed through `edit` (null drops one), written again. */
async function rewrite(blob: Blob, edit: (t: TensorToWrite & { data: Float32Array }) => TensorToWrite | null): Promise<Blob> {
  const edited = (await tensorsOf(blob)).map(edit).filter((t): t is TensorToWrite => t !== null);
  return writeSafetensors(edited, { format: 'pt' });
}

const families: { name: string; cfg: ModelConfig }[] = [
  { name: 'llama GQA untied', cfg: tinyLlama({ V: 13, C: 16, F: 24, L: 2, NH: 4, NKV: 2 }) },
  { name: 'llama MQA tied', cfg: tinyLlama({ V: 11, C: 8, F: 12, L: 2, NH: 2, NKV: 1, tied: true }) },
  { name: 'llama attention + mlp bias', cfg: tinyLlama({ C: 8, F: 12, NH: 2, NKV: 2, attentionBias: true, mlpBias: true }) },
  { name: 'qwen2 q/k/v biases', cfg: tinyLlama({ architecture: 'Qwen2ForCausalLM', V: 17, C: 16, F: 20, NH: 4, NKV: 2 }) },
  { name: 'mistral', cfg: tinyLlama({ architecture: 'MistralForCausalLM', C: 8, F: 12, NH: 2, NKV: 1 }) },
  { name: 'gpt2', cfg: tinyGpt2({ V: 13, C: 8, NH: 2, L: 2 }) },
];

describe('HF safetensors export -> import round trip', () => {
  families.forEach(({ name, cfg }, i) => {
    it(`${name}: identical params, config.json parses back to the same config`, async () => {
      const layout = paramLayout(cfg);
      const params = randomParams(layout, 10 + i);
      const { configJson, safetensors } = exportHfModel(layout, params);
      expect(await loadHfWeights(layout, await readSafetensors(safetensors))).toEqual(params);
      expect(parseHfConfig(JSON.parse(configJson))).toEqual(cfg);
      const names = (await readSafetensors(safetensors)).names;
      expect(names.includes('lm_head.weight')).toBe(!cfg.tiedEmbeddings);
      expect(names.every((n) => n.startsWith(layout.hfBasePrefix) || n === 'lm_head.weight')).toBe(true);
    });
  });

  it('gpt2: c_attn joins q, k, v by columns with the Conv1D transpose; c_proj, c_fc are transposed', async () => {
    const cfg = tinyGpt2({ V: 9, C: 8, NH: 2, L: 1 });
    const { C, F } = cfg;
    const layout = paramLayout(cfg);
    const params = randomParams(layout, 3);
    const file = await readSafetensors(exportHfModel(layout, params).safetensors);
    const cAttn = file.get('transformer.h.0.attn.c_attn.weight');
    expect(cAttn.shape).toEqual([C, 3 * C]);
    const w = await cAttn.float32();
    const bias = await file.get('transformer.h.0.attn.c_attn.bias').float32();
    ['q', 'k', 'v'].forEach((p, part) => {
      const ours = view(params, tensorSpec(layout, `h.0.attn.${p}.w`)); // (out C, in C)
      for (let i = 0; i < C; i++) for (let j = 0; j < C; j++) expect(w[i * 3 * C + part * C + j]).toBe(ours[j * C + i]);
      expect(bias.subarray(part * C, (part + 1) * C)).toEqual(view(params, tensorSpec(layout, `h.0.attn.${p}.b`)));
    });
    const fc = file.get('transformer.h.0.mlp.c_fc.weight');
    expect(fc.shape).toEqual([C, F]);
    const fcw = await fc.float32();
    const ours = view(params, tensorSpec(layout, 'h.0.mlp.fc.w')); // (F, C)
    for (let i = 0; i < C; i++) for (let j = 0; j < F; j++) expect(fcw[i * F + j]).toBe(ours[j * C + i]);
  });

  it('llama: q_proj, k_proj (GQA rows) and lm_head are stored as ours, untransposed', async () => {
    const cfg = tinyLlama({ V: 13, C: 16, F: 24, NH: 4, NKV: 2 });
    const layout = paramLayout(cfg);
    const params = randomParams(layout, 4);
    const file = await readSafetensors(exportHfModel(layout, params).safetensors);
    expect(file.get('model.layers.1.self_attn.k_proj.weight').shape).toEqual([cfg.NKV * cfg.HS, cfg.C]);
    expect(await file.get('model.layers.1.self_attn.k_proj.weight').float32()).toEqual(view(params, tensorSpec(layout, 'h.1.attn.k.w')));
    expect(await file.get('lm_head.weight').float32()).toEqual(view(params, tensorSpec(layout, 'lm_head.w')));
  });
});

describe('loading real-world checkpoint variants', () => {
  it('bare base-model names (hub gpt2 files omit "transformer.") plus an lm_head equal to wte', async () => {
    const layout = paramLayout(tinyGpt2({ C: 8, NH: 2 }));
    const params = randomParams(layout, 5);
    const exported = exportHfModel(layout, params).safetensors;
    const wte = view(params, tensorSpec(layout, 'wte'));
    const bare = await rewrite(exported, (t) => ({ ...t, name: t.name.replace(/^transformer\./, '') }));
    const withHead = writeSafetensors([...(await tensorsOf(bare)), { name: 'lm_head.weight', shape: [layout.config.V, layout.config.C], dtype: 'F32', data: wte }]);
    expect(await loadHfWeights(layout, await readSafetensors(withHead))).toEqual(params);

    const otherHead = writeSafetensors([...(await tensorsOf(bare)), { name: 'lm_head.weight', shape: [layout.config.V, layout.config.C], dtype: 'F32', data: wte.map((x) => x + 1) }]);
    await expect(loadHfWeights(layout, await readSafetensors(otherHead))).rejects.toThrow(/tie_word_embeddings true, but "lm_head.weight" differs from the embedding/);
  });

  for (const [dtype, round] of [['BF16', (x: number) => bf16ToF32(f32ToBf16(x))], ['F16', (x: number) => f16ToF32(f32ToF16(x))]] as const) {
    it(`${dtype} checkpoint is converted to f32`, async () => {
      const layout = paramLayout(tinyLlama({ architecture: 'Qwen2ForCausalLM', C: 8, F: 12, NH: 2, NKV: 1 }));
      const params = randomParams(layout, 6);
      const half = await rewrite(exportHfModel(layout, params).safetensors, (t) => ({ ...t, dtype }));
      const progress: number[] = [];
      const loaded = await loadHfWeights(layout, await readSafetensors(half), { onProgress: (p) => progress.push(p.loaded / p.total) });
      expect(loaded).toEqual(params.map(round));
      expect(progress.at(-1)).toBe(1);
      expect(progress.every((x, k) => k === 0 || x >= progress[k - 1])).toBe(true);
    });
  }

  it('a dropped folder with index + two shards + tokenizer files', async () => {
    const cfg = tinyLlama({ V: 13, C: 16, F: 24, NH: 4, NKV: 2 });
    const layout = paramLayout(cfg);
    const params = randomParams(layout, 7);
    const { configJson, safetensors } = exportHfModel(layout, params);
    const all = await tensorsOf(safetensors);
    const half = Math.ceil(all.length / 2);
    const shards = [all.slice(0, half), all.slice(half)];
    const shardName = (k: number) => `model-0000${k + 1}-of-00002.safetensors`;
    const weightMap = Object.fromEntries(shards.flatMap((s, k) => s.map((t) => [t.name, shardName(k)])));
    const files = new Map<string, Blob>([
      ['my-model/config.json', new Blob([configJson])],
      ['my-model/model.safetensors.index.json', new Blob([JSON.stringify({ metadata: {}, weight_map: weightMap })])],
      ['my-model/tokenizer.json', new Blob(['{"model":{}}'])],
      ...shards.map((s, k): [string, Blob] => [`my-model/${shardName(k)}`, writeSafetensors(s, { format: 'pt' })]),
    ]);
    const m = await loadModelFiles(files);
    expect(m.config).toEqual(cfg);
    expect(m.params).toEqual(params);
    expect(m.tokenizerJson).toBe('{"model":{}}');
    expect(m.tokenizerConfig).toBeUndefined();
  });
});

describe('errors a user sees', () => {
  const cfg = tinyLlama({ V: 13, C: 16, F: 24, NH: 4, NKV: 2 });
  const layout = paramLayout(cfg);
  const params = randomParams(layout, 8);

  it('missing tensor: names the tensor, the parameter and the file', async () => {
    const blob = await rewrite(exportHfModel(layout, params).safetensors, (t) => (t.name === 'model.layers.1.mlp.up_proj.weight' ? null : t));
    const err = await loadHfWeights(layout, await readSafetensors(new File([blob], 'model.safetensors'))).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WeightFileError);
    expect((err as WeightFileError).tensorName).toBe('model.layers.1.mlp.up_proj.weight');
    expect((err as Error).message).toMatch(/^model\.safetensors: has no tensor "model\.layers\.1\.mlp\.up_proj\.weight" \(nor "layers\.1\.mlp\.up_proj\.weight"\), needed for h\.1\.mlp\.up\.w/);
  });

  it('untied config without lm_head.weight: says why the head is needed', async () => {
    const blob = await rewrite(exportHfModel(layout, params).safetensors, (t) => (t.name === 'lm_head.weight' ? null : t));
    await expect(loadHfWeights(layout, await readSafetensors(blob))).rejects.toThrow(/no tensor "lm_head.weight".*tie_word_embeddings false/);
  });

  it('wrong shape: expected (from config.json) vs found, and the file', async () => {
    const other = paramLayout(tinyLlama({ V: 13, C: 16, F: 20, NH: 4, NKV: 2 }));
    const blob = new File([exportHfModel(other, randomParams(other, 1)).safetensors], 'model.safetensors');
    await expect(loadHfWeights(layout, await readSafetensors(blob))).rejects.toThrow(
      /^model\.safetensors: tensor "model\.layers\.0\.mlp\.gate_proj\.weight" has shape \[20, 16\], expected \[24, 16\] from config\.json \(LlamaForCausalLM V=13 C=16 L=2 NH=4 NKV=2 F=24\)/,
    );
  });

  it('unknown architecture in config.json', async () => {
    const { safetensors } = exportHfModel(layout, params);
    const config = JSON.stringify({ architectures: ['FalconForCausalLM'], model_type: 'falcon' });
    const err = await loadModelFiles(new Map([['config.json', new Blob([config])], ['model.safetensors', safetensors]])).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelConfigError);
    expect((err as Error).message).toMatch(/unsupported architectures \["FalconForCausalLM"\]; supported: LlamaForCausalLM/);
  });

  it('no model among the files, and a PEFT folder dropped as a model', async () => {
    await expect(loadModelFiles(new Map([['notes.txt', new Blob(['hi'])]]))).rejects.toThrow(/no model found.*"notes\.txt"/);
    await expect(loadModelFiles(new Map([['adapter_config.json', new Blob(['{}'])]]))).rejects.toThrow(/looks like a PEFT adapter/);
  });
});

describe('LoRA: merged export and PEFT adapters', () => {
  const loraCases: { name: string; cfg: ModelConfig; spec: LoraSpec }[] = [
    { name: 'llama GQA q,v,down', cfg: tinyLlama({ V: 13, C: 16, F: 24, NH: 4, NKV: 2 }), spec: { rank: 3, alpha: 6, targets: ['q_proj', 'v_proj', 'down_proj'] } },
    { name: 'qwen2 tied, every linear', cfg: tinyLlama({ architecture: 'Qwen2ForCausalLM', C: 8, F: 12, NH: 2, NKV: 1, tied: true }), spec: { rank: 2, alpha: 5, targets: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] } },
    { name: 'gpt2 c_attn (split parts), c_fc', cfg: tinyGpt2({ V: 11, C: 8, NH: 2 }), spec: { rank: 2, alpha: 4, targets: ['c_attn', 'c_fc'] } },
  ];

  loraCases.forEach(({ name, cfg, spec }, i) => {
    const withLora = paramLayout(cfg, spec);
    const plain = paramLayout(cfg);
    const params = randomParams(withLora, 20 + i);
    const lora = randomLora(withLora, 30 + i, 0.5);
    const batch = randomBatch(2, 5, cfg.V, 40 + i);
    const refBatch = { B: 2, T: 5, ...batch };
    const ref = refForward(withLora, f64(params), refBatch, { lora: f64(lora) });

    it(`${name}: float64 merge gives the LoRA model's loss (|Δ| < 1e-9)`, () => {
      const merged = refForward(plain, mergeLoraInto(withLora, f64(params), f64(lora)), refBatch);
      expect(Math.abs(merged.loss - ref.loss)).toBeLessThan(1e-9);
    });

    it(`${name}: exported merged model loads as a plain model with the LoRA model's loss`, async () => {
      const { safetensors } = exportHfModel(withLora, params, { lora });
      const loaded = await loadHfWeights(plain, await readSafetensors(safetensors));
      expect(loaded).toEqual(mergeLoraInto(withLora, params, lora));
      const got = refForward(plain, f64(loaded), refBatch);
      expect(Math.abs(got.loss - ref.loss) / ref.loss).toBeLessThan(1e-6);
    });

    it(`${name}: PEFT export -> import gives the same adapters`, async () => {
      const { adapterConfigJson, adapterSafetensors } = exportPeft(withLora, lora, { baseModel: 'me/tiny' });
      const config = JSON.parse(adapterConfigJson);
      expect(config).toMatchObject({ peft_type: 'LORA', r: spec.rank, lora_alpha: spec.alpha, target_modules: spec.targets, base_model_name_or_path: 'me/tiny', fan_in_fan_out: cfg.family === 'gpt2' });
      expect(await importPeft(withLora, adapterConfigJson, adapterSafetensors)).toEqual(lora);
      const file = await readSafetensors(adapterSafetensors);
      const first = withLora.lora!.adapters[0];
      expect(file.get(`base_model.model.${first.module}.lora_A.weight`).shape).toEqual([spec.rank, first.inDim]);
      expect(file.get(`base_model.model.${first.module}.lora_B.weight`).shape).toEqual([first.outDim, spec.rank]);
    });
  });

  it('exported GPT-2 adapter key names are PEFT\'s', async () => {
    const layout = paramLayout(tinyGpt2({ C: 8, NH: 2, L: 1 }), { rank: 2, alpha: 4, targets: ['c_attn'] });
    const { adapterSafetensors } = exportPeft(layout, randomLora(layout, 1), { baseModel: 'gpt2' });
    expect((await readSafetensors(adapterSafetensors)).names).toEqual([
      'base_model.model.transformer.h.0.attn.c_attn.lora_A.weight',
      'base_model.model.transformer.h.0.attn.c_attn.lora_B.weight',
    ]);
  });

  it('importing an adapter that is not the layout\'s: rank, alpha, targets, shapes', async () => {
    const cfg = tinyLlama({ V: 13, C: 16, F: 24, NH: 4, NKV: 2 });
    const spec = { rank: 2, alpha: 4, targets: ['q_proj', 'v_proj'] };
    const layout = paramLayout(cfg, spec);
    const { adapterConfigJson, adapterSafetensors } = exportPeft(layout, randomLora(layout, 2), { baseModel: 'x' });
    const into = (cfg2: ModelConfig, s: LoraSpec) => importPeft(paramLayout(cfg2, s), adapterConfigJson, adapterSafetensors);
    await expect(into(cfg, { ...spec, rank: 4, alpha: 8 })).rejects.toThrow(/adapter rank r=2 does not match \(the LoRA layout has r=4/);
    await expect(into(cfg, { ...spec, alpha: 8 })).rejects.toThrow(/is scaled by 2, the layout by alpha\/r = 4/);
    await expect(into(cfg, { ...spec, targets: ['q_proj', 'k_proj'] })).rejects.toThrow(/modules differ.*missing model\.layers\.0\.self_attn\.k_proj, model\.layers\.1\.self_attn\.k_proj; extra model\.layers\.0\.self_attn\.v_proj/);
    await expect(into(tinyLlama({ V: 13, C: 16, F: 24, NH: 4, NKV: 4 }), spec)).rejects.toThrow(/"model\.layers\.0\.self_attn\.v_proj" is \(out 8, in 16\), the model's module is \(out 16, in 16\)/);
    await expect(importPeft(paramLayout(cfg), adapterConfigJson, adapterSafetensors)).rejects.toThrow(/the layout has no LoRA spec/);
  });
});

// ------------------------------------------------------------------ llama2.c

/** Rows of an HF (rotate-half) q/k projection in llama2.c's interleaved-pair order: row (h, 2p+a) <- HF row (h, a·hs/2 + p). */
function toInterleaved(w: Float32Array, heads: number, cols: number): Float32Array {
  const hs = w.length / cols / heads;
  const out = new Float32Array(w.length);
  for (let h = 0; h < heads; h++) {
    for (let p = 0; p < hs / 2; p++) {
      for (let a = 0; a < 2; a++) out.set(w.subarray((h * hs + a * (hs / 2) + p) * cols, (h * hs + a * (hs / 2) + p + 1) * cols), (h * hs + 2 * p + a) * cols);
    }
  }
  return out;
}

/** A llama2.c checkpoint of `params` written byte by byte (legacy or version-1 header). */
function llama2cFile(layout: ParamLayout, params: Float32Array, version: 0 | 1): File {
  const { C, F, L, NH, NKV, V, HS, maxPositions, tiedEmbeddings } = layout.config;
  const t = (name: string) => view(params, tensorSpec(layout, name));
  const perLayer = (name: string, f: (w: Float32Array) => Float32Array = (w) => w) => Array.from({ length: L }, (_, l) => f(t(`h.${l}.${name}`)));
  const w = {
    emb: [t('wte')], rmsAtt: perLayer('ln1.w'), rmsFfn: perLayer('ln2.w'), rmsFinal: [t('lnf.w')],
    wq: perLayer('attn.q.w', (x) => toInterleaved(x, NH, C)), wk: perLayer('attn.k.w', (x) => toInterleaved(x, NKV, C)),
    wv: perLayer('attn.v.w'), wo: perLayer('attn.o.w'), w1: perLayer('mlp.gate.w'), w2: perLayer('mlp.down.w'), w3: perLayer('mlp.up.w'),
  };
  const order = version === 0
    ? [w.emb, w.rmsAtt, w.wq, w.wk, w.wv, w.wo, w.rmsFfn, w.w1, w.w2, w.w3, w.rmsFinal, [new Float32Array(maxPositions * HS)]]
    : [w.rmsAtt, w.rmsFfn, w.rmsFinal, w.emb, w.wq, w.wk, w.wv, w.wo, w.w1, w.w2, w.w3];
  if (!tiedEmbeddings) order.push([t('lm_head.w')]);
  const header = new DataView(new ArrayBuffer(version === 0 ? 28 : 256));
  const ints = [C, F, L, NH, NKV, version === 0 && !tiedEmbeddings ? -V : V, maxPositions];
  const at = version === 0 ? 0 : 8;
  ints.forEach((x, k) => header.setInt32(at + 4 * k, x, true));
  if (version === 1) {
    header.setUint32(0, 0x616b3432, true);
    header.setInt32(4, 1, true);
    header.setUint8(36, tiedEmbeddings ? 1 : 0);
  }
  const floats = order.flat();
  const body = new DataView(new ArrayBuffer(4 * floats.reduce((n, a) => n + a.length, 0)));
  let off = 0;
  for (const a of floats) {
    for (const x of a) {
      body.setFloat32(off, x, true);
      off += 4;
    }
  }
  return new File([header, body], 'stories-tiny.bin');
}

describe('llama2.c checkpoints', () => {
  for (const [version, tied] of [[0, true], [0, false], [1, true], [1, false]] as const) {
    it(`${version === 0 ? 'legacy' : 'version 1'} header, ${tied ? 'shared' : 'separate'} classifier: same params and logits as the HF-style equivalent`, async () => {
      const cfg = tinyLlama({ V: 13, C: 16, F: 24, L: 2, NH: 4, NKV: 2, tied });
      const layout = paramLayout(cfg);
      const params = randomParams(layout, 50 + version);
      const tokenizer = new File(['{"model":{}}'], 'tokenizer.json');
      const fromBin = await loadModelFiles([llama2cFile(layout, params, version), new File(['x'], 'tokenizer.bin'), tokenizer]);
      const { configJson, safetensors } = exportHfModel(layout, params);
      const fromHf = await loadModelFiles([new File([configJson], 'config.json'), new File([safetensors], 'model.safetensors')]);
      expect(fromBin.config).toEqual(fromHf.config);
      expect(fromBin.tokenizerJson).toBe('{"model":{}}');
      expect(fromBin.params).toEqual(fromHf.params);
      const batch = { B: 2, T: 6, ...randomBatch(2, 6, cfg.V, 60) };
      expect(refForward(layout, f64(fromBin.params), batch).logits).toEqual(refForward(layout, f64(fromHf.params), batch).logits);
    });
  }

  it('several candidate .bin files are refused by name', async () => {
    await expect(loadModelFiles([new File(['a'], 'a.bin'), new File(['b'], 'b.bin')])).rejects.toThrow(/several \.bin files \(a\.bin, b\.bin\)/);
  });
});
