// A run's weights as files, on the CPU (no GPU needed), from its latest checkpoint: a Hugging Face model
// folder (model.safetensors, config.json, the tokenizer files) that transformers' from_pretrained loads,
// LoRA merged in; or a LoRA run's adapters as a PEFT adapter (adapter_config.json,
// adapter_model.safetensors) for its base model.
import { ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE } from '../io';
import { exportHfModel } from '../model/hf-weights';
import { exportPeft } from '../model/lora-io';
import { paramLayout } from '../model/param-layout';
import { getCheckpointFile, latestCheckpoint } from '../store/checkpoints';
import type { PlantuneDb } from '../store/db';
import type { RunRecord } from '../store/runs';
import { loraSpec, modelSource, runSource } from './run-model';
import type { ExportedFile, RunConfig } from './run-types';

const json = (name: string, text: string): ExportedFile => ({ name, blob: new Blob([text], { type: 'application/json' }) });

/** The step of the run's latest checkpoint (its latest weights); a clear error when it has not saved one. */
export async function latestStep(db: PlantuneDb, run: RunRecord): Promise<number> {
  const ckpt = await latestCheckpoint(db, run.id);
  if (!ckpt) {
    const every = (run.config as RunConfig).checkpointEvery;
    throw new Error(`run "${run.name}" has no checkpoint yet, so no trained weights: one is saved every ${every} steps, when the run is paused or stopped, and at its end`);
  }
  return ckpt.step;
}

/** model.safetensors (f32, HF names; LoRA merged), config.json and the base model's tokenizer files. */
export async function hfModelFiles(db: PlantuneDb, run: RunRecord): Promise<ExportedFile[]> {
  const source = await runSource(db, run.id, await latestStep(db, run));
  const hf = exportHfModel(paramLayout(source.config), await source.weights());
  const tokenizer = await source.tokenizerFiles();
  return [
    { name: 'model.safetensors', blob: hf.safetensors },
    json('config.json', hf.configJson),
    json('tokenizer.json', tokenizer.json),
    ...(tokenizer.config === undefined ? [] : [json('tokenizer_config.json', tokenizer.config)]),
  ];
}

/** adapter_config.json and adapter_model.safetensors of a LoRA run; a full fine-tuning run has no adapter. */
export async function peftFiles(db: PlantuneDb, run: RunRecord): Promise<ExportedFile[]> {
  const config = run.config as RunConfig;
  if (!config.lora) {
    throw new Error(`run "${run.name}" fine-tuned the whole model, so it has no LoRA adapter to export as PEFT: export the model as safetensors instead`);
  }
  const step = await latestStep(db, run);
  const base = await modelSource(db, config);
  const layout = paramLayout(base.config, loraSpec(config, base.config));
  const expected = layout.lora!.totalElements;
  const blob = await getCheckpointFile(db, run.id, step, 'lora');
  if (!blob || blob.size !== expected * 4) {
    const found = blob ? `${blob.size / 4} LoRA values` : 'no "lora" file';
    throw new Error(`the checkpoint at step ${step} of run "${run.name}" has ${found}; the run's LoRA settings on ${base.label} need ${expected}`);
  }
  const peft = exportPeft(layout, new Float32Array(await blob.arrayBuffer()), { baseModel: base.name });
  return [json(ADAPTER_CONFIG_FILE, peft.adapterConfigJson), { name: ADAPTER_WEIGHTS_FILE, blob: peft.adapterSafetensors }];
}
