// PEFT LoRA adapters (https://github.com/huggingface/peft), the format
// `PeftModel.from_pretrained(base, folder)` loads:
//
//   adapter_config.json        { peft_type: "LORA", r, lora_alpha, target_modules, ... }
//   adapter_model.safetensors  base_model.model.{module}.lora_A.weight  (r, in)
//                              base_model.model.{module}.lora_B.weight  (out, r)
//
// {module} is the Hugging Face module path of the adapted layer, e.g.
// "model.layers.3.self_attn.q_proj" (Llama) or "transformer.h.3.attn.c_attn" (GPT-2).
// The adapted layer computes y = W x + (lora_alpha / r) · B (A x) (alpha / √r with
// use_rslora). A and B have these shapes for nn.Linear and for GPT-2's Conv1D alike:
// PEFT's `fan_in_fan_out` only says the *base* weight is stored (in, out) (Conv1D), so
// the merged delta is transposed for it; it is true for GPT-2 and false for Llama.
import { WeightFileError } from './errors';
import { type FloatDtype, type TensorToWrite, readSafetensors, writeSafetensors } from './safetensors';

export const ADAPTER_CONFIG_FILE = 'adapter_config.json';
export const ADAPTER_WEIGHTS_FILE = 'adapter_model.safetensors';

/** The adapter_config.json fields Plantune writes (all of them LoraConfig fields). */
export interface AdapterConfig {
  peft_type: 'LORA';
  task_type: 'CAUSAL_LM';
  base_model_name_or_path: string;
  revision: string | null;
  inference_mode: boolean;
  r: number;
  lora_alpha: number;
  lora_dropout: number;
  target_modules: string[];
  fan_in_fan_out: boolean;
  bias: 'none';
  use_rslora: boolean;
  use_dora: boolean;
  modules_to_save: null;
  init_lora_weights: boolean;
  layers_to_transform: null;
  layers_pattern: null;
  rank_pattern: Record<string, number>;
  alpha_pattern: Record<string, number>;
}

/** One adapted layer. A is (r, in) row-major, B is (out, r) row-major. */
export interface LoraLayer {
  /** HF module path, e.g. "model.layers.0.self_attn.q_proj". */
  module: string;
  inFeatures: number;
  outFeatures: number;
  r: number;
  A: Float32Array;
  B: Float32Array;
}

export type PeftArchitecture = 'llama' | 'gpt2';

export interface PeftExportOptions {
  /** Hub id or path of the base model (written to base_model_name_or_path). */
  baseModel: string;
  architecture: PeftArchitecture;
  r: number;
  loraAlpha: number;
  /** Default: the distinct last path components of the layers' modules, sorted. */
  targetModules?: string[];
  /** Storage dtype of A and B (default F32). */
  dtype?: FloatDtype;
  /** Base model revision (default null). */
  revision?: string | null;
}

/** safetensors key of a LoRA factor. */
export function loraKey(module: string, which: 'A' | 'B'): string {
  return `base_model.model.${module}.lora_${which}.weight`;
}

function lastComponent(module: string): string {
  return module.slice(module.lastIndexOf('.') + 1);
}

/** The adapter_config.json object for these options. */
export function makeAdapterConfig(opts: PeftExportOptions, layers: readonly LoraLayer[] = []): AdapterConfig {
  if (!Number.isInteger(opts.r) || opts.r <= 0) throw new Error(`PEFT export: r must be a positive integer, got ${opts.r}`);
  if (!Number.isFinite(opts.loraAlpha)) throw new Error(`PEFT export: lora_alpha must be a number, got ${opts.loraAlpha}`);
  const targets = opts.targetModules ?? [...new Set(layers.map((l) => lastComponent(l.module)))].sort();
  return {
    peft_type: 'LORA',
    task_type: 'CAUSAL_LM',
    base_model_name_or_path: opts.baseModel,
    revision: opts.revision ?? null,
    inference_mode: true,
    r: opts.r,
    lora_alpha: opts.loraAlpha,
    lora_dropout: 0,
    target_modules: targets,
    fan_in_fan_out: opts.architecture === 'gpt2',
    bias: 'none',
    use_rslora: false,
    use_dora: false,
    modules_to_save: null,
    init_lora_weights: true,
    layers_to_transform: null,
    layers_pattern: null,
    rank_pattern: {},
    alpha_pattern: {},
  };
}

export interface PeftExport {
  config: AdapterConfig;
  /** adapter_config.json text (pretty-printed, as PEFT writes it). */
  configJson: string;
  /** adapter_model.safetensors */
  weights: Blob;
}

/** Builds adapter_config.json and adapter_model.safetensors for the layers. */
export function exportPeftAdapter(layers: readonly LoraLayer[], opts: PeftExportOptions): PeftExport {
  if (layers.length === 0) throw new Error('PEFT export: no LoRA layers to export');
  const config = makeAdapterConfig(opts, layers);
  const seen = new Set<string>();
  const tensors: TensorToWrite[] = [];
  for (const l of layers) {
    if (seen.has(l.module)) throw new Error(`PEFT export: module "${l.module}" given twice`);
    seen.add(l.module);
    if (l.r !== opts.r) throw new Error(`PEFT export: module "${l.module}" has rank ${l.r}, but the adapter's r is ${opts.r}`);
    // PEFT's rule: a key selects the module whose path equals it or ends in `.key` (so `mlp.c_proj` works).
    if (!config.target_modules.some((key) => l.module === key || l.module.endsWith(`.${key}`))) {
      throw new Error(`PEFT export: module "${l.module}" is not matched by target_modules [${config.target_modules.join(', ')}]`);
    }
    if (l.A.length !== l.r * l.inFeatures) {
      throw new Error(`PEFT export: "${l.module}" lora_A has ${l.A.length} values, expected r × in = ${l.r} × ${l.inFeatures}`);
    }
    if (l.B.length !== l.outFeatures * l.r) {
      throw new Error(`PEFT export: "${l.module}" lora_B has ${l.B.length} values, expected out × r = ${l.outFeatures} × ${l.r}`);
    }
    const dtype = opts.dtype ?? 'F32';
    tensors.push({ name: loraKey(l.module, 'A'), shape: [l.r, l.inFeatures], dtype, data: l.A });
    tensors.push({ name: loraKey(l.module, 'B'), shape: [l.outFeatures, l.r], dtype, data: l.B });
  }
  const weights = writeSafetensors(tensors, { format: 'pt' });
  return { config, configJson: JSON.stringify(config, null, 2) + '\n', weights };
}

export interface PeftImport {
  config: AdapterConfig;
  layers: LoraLayer[];
  /** Multiplier of B·A: lora_alpha / r, or lora_alpha / √r with use_rslora. */
  scale: number;
  /** Per-module scale when rank_pattern/alpha_pattern give a module its own r/alpha. */
  scaleOf(module: string): number;
}

const KEY = /^base_model\.model\.(.+)\.lora_(A|B)(?:\.default)?\.weight$/;

/** The value of a rank/alpha pattern entry matching `module` (PEFT matches keys as a suffix of the module path). */
function patternValue(pattern: Record<string, number>, module: string): number | undefined {
  for (const [key, v] of Object.entries(pattern)) {
    if (module === key || module.endsWith(`.${key}`)) return v;
    try {
      if (new RegExp(`^(.*\\.)?${key}$`).test(module)) return v; // PEFT: re.match(rf"(.*\.)?{key}$", module)
    } catch {
      // not a valid regex: the exact/suffix match above is all
    }
  }
  return undefined;
}

/**
 * Reads a PEFT LoRA adapter: adapter_config.json (text, object or Blob) and
 * adapter_model.safetensors. Validates the config (LORA, supported options), the key
 * names, that every module has both factors, and the shapes against r.
 */
export async function importPeftAdapter(configJson: string | Blob | object, weights: Blob): Promise<PeftImport> {
  const cfgName = ADAPTER_CONFIG_FILE;
  const bad = (msg: string): never => {
    throw new WeightFileError(cfgName, msg);
  };
  let raw: unknown = configJson;
  if (configJson instanceof Blob) raw = await configJson.text();
  if (typeof raw === 'string') {
    try {
      raw = JSON.parse(raw);
    } catch (e) {
      bad(`not valid JSON (${(e as Error).message})`);
    }
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return bad('is not a JSON object');
  const c = raw as Record<string, unknown>;
  if (c.peft_type !== 'LORA') bad(`peft_type is ${JSON.stringify(c.peft_type)}; Plantune reads LoRA adapters ("LORA") only`);
  if (typeof c.r !== 'number' || !Number.isInteger(c.r) || c.r <= 0) bad(`r must be a positive integer, got ${JSON.stringify(c.r)}`);
  if (typeof c.lora_alpha !== 'number' || !Number.isFinite(c.lora_alpha)) bad(`lora_alpha must be a number, got ${JSON.stringify(c.lora_alpha)}`);
  if (c.use_dora === true) bad('use_dora is true: DoRA adapters are not supported (they carry a magnitude vector per layer)');
  if (c.bias !== undefined && c.bias !== 'none') bad(`bias is ${JSON.stringify(c.bias)}: only "none" is supported (no trained biases)`);
  if (Array.isArray(c.modules_to_save) && c.modules_to_save.length > 0) {
    bad(`modules_to_save ${JSON.stringify(c.modules_to_save)} is not supported: Plantune adapters hold LoRA factors only`);
  }
  if (c.task_type !== undefined && c.task_type !== null && c.task_type !== 'CAUSAL_LM') {
    bad(`task_type is ${JSON.stringify(c.task_type)}; expected "CAUSAL_LM"`);
  }
  let targets: string[];
  if (Array.isArray(c.target_modules) && c.target_modules.every((t) => typeof t === 'string')) targets = c.target_modules as string[];
  else if (typeof c.target_modules === 'string') targets = [c.target_modules]; // PEFT allows one regex
  else return bad(`target_modules must be a list of module names, got ${JSON.stringify(c.target_modules)}`);

  const r = c.r as number;
  const alpha = c.lora_alpha as number;
  const rslora = c.use_rslora === true;
  const rankPattern = (typeof c.rank_pattern === 'object' && c.rank_pattern !== null ? c.rank_pattern : {}) as Record<string, number>;
  const alphaPattern = (typeof c.alpha_pattern === 'object' && c.alpha_pattern !== null ? c.alpha_pattern : {}) as Record<string, number>;
  const config: AdapterConfig = {
    peft_type: 'LORA',
    task_type: 'CAUSAL_LM',
    base_model_name_or_path: typeof c.base_model_name_or_path === 'string' ? c.base_model_name_or_path : '',
    revision: typeof c.revision === 'string' ? c.revision : null,
    inference_mode: c.inference_mode !== false,
    r,
    lora_alpha: alpha,
    lora_dropout: typeof c.lora_dropout === 'number' ? c.lora_dropout : 0,
    target_modules: targets,
    fan_in_fan_out: c.fan_in_fan_out === true,
    bias: 'none',
    use_rslora: rslora,
    use_dora: false,
    modules_to_save: null,
    init_lora_weights: c.init_lora_weights !== false,
    layers_to_transform: null,
    layers_pattern: null,
    rank_pattern: rankPattern,
    alpha_pattern: alphaPattern,
  };
  const rankOf = (module: string) => patternValue(rankPattern, module) ?? r;
  const scaleOf = (module: string) => {
    const mr = rankOf(module);
    const ma = patternValue(alphaPattern, module) ?? alpha;
    return rslora ? ma / Math.sqrt(mr) : ma / mr;
  };

  const file = await readSafetensors(weights, ADAPTER_WEIGHTS_FILE);
  const wname = file.fileName;
  const factors = new Map<string, { A?: string; B?: string }>();
  const stray: string[] = [];
  for (const name of file.names) {
    const m = KEY.exec(name);
    if (!m) {
      stray.push(name);
      continue;
    }
    const [, module, which] = m;
    const f = factors.get(module) ?? {};
    f[which as 'A' | 'B'] = name;
    factors.set(module, f);
  }
  if (stray.length > 0) {
    throw new WeightFileError(
      wname,
      `has tensors that are not LoRA factors (expected "base_model.model.<module>.lora_A.weight" / ".lora_B.weight"): ${stray.slice(0, 5).map((s) => `"${s}"`).join(', ')}`,
      stray[0],
    );
  }
  if (factors.size === 0) throw new WeightFileError(wname, 'contains no LoRA factors');

  const layers: LoraLayer[] = [];
  for (const [module, f] of factors) {
    if (!f.A || !f.B) {
      const has = f.A ? 'lora_A' : 'lora_B';
      throw new WeightFileError(wname, `module "${module}" has ${has} but not ${f.A ? 'lora_B' : 'lora_A'}`, f.A ?? f.B);
    }
    const a = file.get(f.A);
    const b = file.get(f.B);
    const mr = rankOf(module);
    if (a.shape.length !== 2 || a.shape[0] !== mr) {
      throw new WeightFileError(wname, `"${f.A}" has shape [${a.shape.join(', ')}], expected [r=${mr}, in]`, f.A);
    }
    if (b.shape.length !== 2 || b.shape[1] !== mr) {
      throw new WeightFileError(wname, `"${f.B}" has shape [${b.shape.join(', ')}], expected [out, r=${mr}]`, f.B);
    }
    layers.push({ module, r: mr, inFeatures: a.shape[1], outFeatures: b.shape[0], A: await a.float32(), B: await b.float32() });
  }
  return { config, layers, scale: rslora ? alpha / Math.sqrt(r) : alpha / r, scaleOf };
}
