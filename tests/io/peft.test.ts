// PEFT LoRA adapters: export -> import round trip, the exact key and config format
// PEFT loads, and the import validation errors.
import { describe, expect, it } from 'vitest';
import { type LoraLayer, exportPeftAdapter, importPeftAdapter, loraKey } from '../../src/io/peft';
import { readSafetensors, writeSafetensors } from '../../src/io/safetensors';
import { rng, randArray } from '../helpers/random';

function layer(module: string, inF: number, outF: number, r: number, seed: number): LoraLayer {
  const rand = rng(seed);
  return { module, inFeatures: inF, outFeatures: outF, r, A: randArray(rand, r * inF), B: randArray(rand, outF * r) };
}

const llamaLayers = (r = 4) => [
  layer('model.layers.0.self_attn.q_proj', 16, 16, r, 1),
  layer('model.layers.0.self_attn.v_proj', 16, 8, r, 2),
  layer('model.layers.1.self_attn.q_proj', 16, 16, r, 3),
  layer('model.layers.1.self_attn.v_proj', 16, 8, r, 4),
];

describe('PEFT export', () => {
  it('writes the adapter_config.json PEFT expects (llama)', () => {
    const { config, configJson } = exportPeftAdapter(llamaLayers(), { baseModel: 'tiny-org/tiny-llama', architecture: 'llama', r: 4, loraAlpha: 8 });
    expect(JSON.parse(configJson)).toEqual(config);
    expect(config).toMatchObject({
      peft_type: 'LORA',
      task_type: 'CAUSAL_LM',
      base_model_name_or_path: 'tiny-org/tiny-llama',
      r: 4,
      lora_alpha: 8,
      lora_dropout: 0,
      target_modules: ['q_proj', 'v_proj'],
      bias: 'none',
      fan_in_fan_out: false,
      use_dora: false,
      use_rslora: false,
    });
  });

  it('names and shapes the tensors base_model.model.{module}.lora_A.weight (r, in) / lora_B.weight (out, r)', async () => {
    const layers = llamaLayers();
    const { weights } = exportPeftAdapter(layers, { baseModel: 'm', architecture: 'llama', r: 4, loraAlpha: 8 });
    const st = await readSafetensors(weights, 'adapter_model.safetensors');
    expect(st.metadata).toEqual({ format: 'pt' });
    expect(st.names).toContain('base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight');
    expect(st.names).toContain('base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight');
    expect(st.names.length).toBe(8);
    expect(st.get('base_model.model.model.layers.0.self_attn.v_proj.lora_A.weight').shape).toEqual([4, 16]);
    expect(st.get('base_model.model.model.layers.0.self_attn.v_proj.lora_B.weight').shape).toEqual([8, 4]);
    expect(loraKey('transformer.h.0.attn.c_attn', 'B')).toBe('base_model.model.transformer.h.0.attn.c_attn.lora_B.weight');
  });

  it('round-trips through import (F32 exactly, BF16 to bf16 precision)', async () => {
    const layers = llamaLayers();
    const exp = exportPeftAdapter(layers, { baseModel: 'm', architecture: 'llama', r: 4, loraAlpha: 8 });
    const imp = await importPeftAdapter(exp.configJson, exp.weights);
    expect(imp.config).toEqual(exp.config);
    expect(imp.scale).toBe(2);
    expect(imp.layers.map((l) => l.module).sort()).toEqual(layers.map((l) => l.module).sort());
    for (const l of layers) {
      const got = imp.layers.find((x) => x.module === l.module)!;
      expect({ ...got, A: [...got.A], B: [...got.B] }).toEqual({ ...l, A: [...l.A], B: [...l.B] });
    }
    const half = exportPeftAdapter(layers, { baseModel: 'm', architecture: 'llama', r: 4, loraAlpha: 8, dtype: 'BF16' });
    const back = await importPeftAdapter(new Blob([half.configJson]), half.weights);
    const q = back.layers.find((x) => x.module === layers[0].module)!;
    expect(q.A).toAllClose(layers[0].A, { tol: 1e-2 });
  });

  it('gpt2 Conv1D modules: fan_in_fan_out true, same A/B shapes', async () => {
    const layers = [layer('transformer.h.0.attn.c_attn', 12, 36, 2, 5), layer('transformer.h.0.mlp.c_fc', 12, 48, 2, 6)];
    const exp = exportPeftAdapter(layers, { baseModel: 'gpt2', architecture: 'gpt2', r: 2, loraAlpha: 4 });
    expect(exp.config.fan_in_fan_out).toBe(true);
    expect(exp.config.target_modules).toEqual(['c_attn', 'c_fc']);
    const st = await readSafetensors(exp.weights);
    expect(st.get('base_model.model.transformer.h.0.attn.c_attn.lora_A.weight').shape).toEqual([2, 12]);
    expect(st.get('base_model.model.transformer.h.0.attn.c_attn.lora_B.weight').shape).toEqual([36, 2]);
    const imp = await importPeftAdapter(exp.config, exp.weights);
    expect(imp.config.fan_in_fan_out).toBe(true);
  });

  it('rejects inconsistent layers', () => {
    const opts = { baseModel: 'm', architecture: 'llama' as const, r: 4, loraAlpha: 8 };
    expect(() => exportPeftAdapter([], opts)).toThrow(/no LoRA layers/);
    expect(() => exportPeftAdapter([layer('a.q_proj', 4, 4, 2, 1)], opts)).toThrow(/"a\.q_proj" has rank 2, but the adapter's r is 4/);
    const l = layer('a.q_proj', 4, 4, 4, 1);
    expect(() => exportPeftAdapter([{ ...l, A: l.A.subarray(1) }], opts)).toThrow(/lora_A has 15 values, expected r × in = 4 × 4/);
    expect(() => exportPeftAdapter([l, l], opts)).toThrow(/given twice/);
    expect(() => exportPeftAdapter([l], { ...opts, targetModules: ['v_proj'] })).toThrow(/not matched by target_modules/);
    expect(() => exportPeftAdapter([l], { ...opts, r: 0 })).toThrow(/positive integer/);
  });
});

describe('PEFT import validation', () => {
  const cfg = { peft_type: 'LORA', r: 2, lora_alpha: 4, target_modules: ['q_proj'], task_type: 'CAUSAL_LM', bias: 'none' };
  const A = (r: number, inF: number) => new Float32Array(r * inF);
  const file = (ts: { name: string; shape: number[] }[]) =>
    writeSafetensors(ts.map((t) => ({ ...t, dtype: 'F32' as const, data: A(t.shape[0], t.shape[1]) })));
  const good = file([
    { name: 'base_model.model.m.q_proj.lora_A.weight', shape: [2, 3] },
    { name: 'base_model.model.m.q_proj.lora_B.weight', shape: [5, 2] },
  ]);

  it('accepts a minimal config, PEFT-saved keys with ".default", and reports the scale', async () => {
    const imp = await importPeftAdapter(JSON.stringify(cfg), good);
    expect(imp.layers).toHaveLength(1);
    expect(imp.layers[0]).toMatchObject({ module: 'm.q_proj', r: 2, inFeatures: 3, outFeatures: 5 });
    expect(imp.scale).toBe(2);
    const old = file([
      { name: 'base_model.model.m.q_proj.lora_A.default.weight', shape: [2, 3] },
      { name: 'base_model.model.m.q_proj.lora_B.default.weight', shape: [5, 2] },
    ]);
    expect((await importPeftAdapter(cfg, old)).layers[0].module).toBe('m.q_proj');
    const rs = await importPeftAdapter({ ...cfg, use_rslora: true, r: 2 }, good);
    expect(rs.scale).toBeCloseTo(4 / Math.SQRT2, 12);
  });

  it('applies rank_pattern and alpha_pattern per module', async () => {
    const f = file([
      { name: 'base_model.model.m.q_proj.lora_A.weight', shape: [2, 3] },
      { name: 'base_model.model.m.q_proj.lora_B.weight', shape: [5, 2] },
      { name: 'base_model.model.m.k_proj.lora_A.weight', shape: [8, 3] },
      { name: 'base_model.model.m.k_proj.lora_B.weight', shape: [5, 8] },
    ]);
    const imp = await importPeftAdapter({ ...cfg, target_modules: ['q_proj', 'k_proj'], rank_pattern: { k_proj: 8 }, alpha_pattern: { k_proj: 32 } }, f);
    expect(imp.layers.find((l) => l.module === 'm.k_proj')!.r).toBe(8);
    expect(imp.scaleOf('m.k_proj')).toBe(4);
    expect(imp.scaleOf('m.q_proj')).toBe(2);
  });

  it('rejects what it cannot load, saying why', async () => {
    await expect(importPeftAdapter('{', good)).rejects.toThrow(/^adapter_config\.json: not valid JSON/);
    await expect(importPeftAdapter({ ...cfg, peft_type: 'IA3' }, good)).rejects.toThrow(/peft_type is "IA3"; Plantune reads LoRA adapters/);
    await expect(importPeftAdapter({ ...cfg, r: 0 }, good)).rejects.toThrow(/r must be a positive integer/);
    await expect(importPeftAdapter({ ...cfg, use_dora: true }, good)).rejects.toThrow(/DoRA adapters are not supported/);
    await expect(importPeftAdapter({ ...cfg, bias: 'all' }, good)).rejects.toThrow(/bias is "all"/);
    await expect(importPeftAdapter({ ...cfg, modules_to_save: ['lm_head'] }, good)).rejects.toThrow(/modules_to_save/);
    await expect(importPeftAdapter({ ...cfg, task_type: 'SEQ_CLS' }, good)).rejects.toThrow(/task_type is "SEQ_CLS"/);
    await expect(importPeftAdapter({ ...cfg, target_modules: 3 }, good)).rejects.toThrow(/target_modules must be/);

    const onlyA = file([{ name: 'base_model.model.m.q_proj.lora_A.weight', shape: [2, 3] }]);
    await expect(importPeftAdapter(cfg, onlyA)).rejects.toThrow(/^adapter_model\.safetensors: module "m\.q_proj" has lora_A but not lora_B/);
    const wrongR = file([
      { name: 'base_model.model.m.q_proj.lora_A.weight', shape: [3, 3] },
      { name: 'base_model.model.m.q_proj.lora_B.weight', shape: [5, 3] },
    ]);
    await expect(importPeftAdapter(cfg, wrongR)).rejects.toThrow(/"base_model\.model\.m\.q_proj\.lora_A\.weight" has shape \[3, 3\], expected \[r=2, in\]/);
    const stray = file([
      { name: 'base_model.model.m.q_proj.lora_A.weight', shape: [2, 3] },
      { name: 'base_model.model.m.q_proj.lora_B.weight', shape: [5, 2] },
      { name: 'base_model.model.lm_head.weight', shape: [5, 3] },
    ]);
    await expect(importPeftAdapter(cfg, stray)).rejects.toThrow(/not LoRA factors.*"base_model\.model\.lm_head\.weight"/);
  });
});
