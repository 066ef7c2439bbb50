// LoRA adapters <-> PEFT files (adapter_config.json + adapter_model.safetensors), through
// src/io/peft.ts. The LoRA layout already holds PEFT's view: one adapter per targeted HF
// module (GPT-2's c_attn is one module with one B of 3C rows), A (r, in) and B (out, r),
// ΔW = (alpha/r)·B·A — so export and import are copies, plus checks on import that the
// adapter is the one the layout describes (rank, scale, modules, shapes).
import { ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE, type LoraLayer, WeightFileError, exportPeftAdapter, importPeftAdapter } from '../io';
import { type LoraLayout, type ParamLayout, view } from './param-layout';

export interface PeftFiles {
  adapterConfigJson: string;
  adapterSafetensors: Blob;
}

function loraOf(layout: ParamLayout, what: string): LoraLayout {
  if (!layout.lora) throw new Error(`${what}: the layout has no LoRA spec`);
  return layout.lora;
}

/** The PEFT adapter of the LoRA buffer `lora` (laid out by layout.lora), for the base model `baseModel` (hub id or path). */
export function exportPeft(layout: ParamLayout, lora: Float32Array, opts: { baseModel: string }): PeftFiles {
  const ll = loraOf(layout, 'exportPeft');
  if (lora.length !== ll.totalElements) throw new RangeError(`exportPeft: lora has ${lora.length} elements, the LoRA layout needs ${ll.totalElements}`);
  const layers: LoraLayer[] = ll.adapters.map((ad) => ({
    module: ad.module,
    inFeatures: ad.inDim,
    outFeatures: ad.outDim,
    r: ll.rank,
    A: view(lora, ad.A),
    B: view(lora, ad.B),
  }));
  const out = exportPeftAdapter(layers, {
    baseModel: opts.baseModel,
    architecture: layout.config.family,
    r: ll.rank,
    loraAlpha: ll.alpha,
    targetModules: ll.targets,
  });
  return { adapterConfigJson: out.configJson, adapterSafetensors: out.weights };
}

/**
 * The LoRA buffer (laid out by layout.lora) of a PEFT adapter. The adapter must be the
 * one the layout describes: same rank, same scale (alpha/r, no rsLoRA or per-module
 * patterns that change it), exactly the layout's modules, and their shapes.
 */
export async function importPeft(layout: ParamLayout, config: string | Blob | object, weights: Blob): Promise<Float32Array> {
  const ll = loraOf(layout, 'importPeft');
  const peft = await importPeftAdapter(config, weights);
  const fail = (file: string, why: string, tensor?: string): never => {
    throw new WeightFileError(file, `${why} (the LoRA layout has r=${ll.rank}, alpha=${ll.alpha}, targets [${ll.targets.join(', ')}])`, tensor);
  };
  if (peft.config.r !== ll.rank) fail(ADAPTER_CONFIG_FILE, `adapter rank r=${peft.config.r} does not match`);

  const byModule = new Map(peft.layers.map((l) => [l.module, l]));
  const missing = ll.adapters.filter((ad) => !byModule.has(ad.module)).map((ad) => ad.module);
  const extra = peft.layers.filter((l) => !ll.adapters.some((ad) => ad.module === l.module)).map((l) => l.module);
  if (missing.length > 0 || extra.length > 0) {
    const list = (m: string[]) => (m.length > 3 ? `${m.slice(0, 3).join(', ')}, … (${m.length})` : m.join(', ') || 'none');
    fail(ADAPTER_WEIGHTS_FILE, `adapter modules differ from the layout's (adapter target_modules [${peft.config.target_modules.join(', ')}]): missing ${list(missing)}; extra ${list(extra)}`);
  }

  const out = new Float32Array(ll.totalElements);
  for (const ad of ll.adapters) {
    const l = byModule.get(ad.module)!;
    if (l.r !== ll.rank) fail(ADAPTER_CONFIG_FILE, `"${ad.module}" has rank ${l.r} (rank_pattern)`);
    const scale = peft.scaleOf(ad.module);
    if (Math.abs(scale - ll.scale) > 1e-12 * ll.scale) fail(ADAPTER_CONFIG_FILE, `"${ad.module}" is scaled by ${scale}, the layout by alpha/r = ${ll.scale}`);
    if (l.inFeatures !== ad.inDim || l.outFeatures !== ad.outDim) {
      fail(ADAPTER_WEIGHTS_FILE, `"${ad.module}" is (out ${l.outFeatures}, in ${l.inFeatures}), the model's module is (out ${ad.outDim}, in ${ad.inDim})`, ad.A.hfName);
    }
    view(out, ad.A).set(l.A);
    view(out, ad.B).set(l.B);
  }
  return out;
}
