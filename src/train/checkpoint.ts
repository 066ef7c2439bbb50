// Checkpoints of a training run: the trainable parameters (the full model, or its LoRA adapters),
// AdamW's moments m and v, and the loop's position (optimizer step, data order). Restoring them into a
// freshly built model and optimizer continues the run exactly where an uninterrupted one would be:
// the next step draws the same batches, uses the same learning rate and AdamW bias correction.
// The same state serves every trainer: SFT and offline RL draw batches from the data order; GRPO draws
// prompts from it, and its sampling seed is a function of the run seed and the step.
import { readF32, upload } from '../gpu/transfer';
import type { Transformer } from '../model/transformer';
import { latestCheckpoint, getCheckpointFile, saveCheckpoint } from '../store/checkpoints';
import type { PlantuneDb } from '../store/db';
import { DataOrder, type DataOrderState } from './data-order';
import type { AdamW, AdamWConfig } from './optimizer';

/** Where a trainer is: optimizer steps completed and its data order (SftState and GrpoTrainer have both). */
export interface TrainState {
  step: number;
  order: DataOrder;
}

/** The file holding the trainable parameters: the whole model or only its LoRA adapters. */
export type ParamsFile = 'params' | 'lora';

export interface CheckpointMeta {
  /** Optimizer steps completed. */
  step: number;
  order: DataOrderState;
  /** AdamW's bias-correction counter (the next update is step optimizerStep + 1) and its settings. */
  schedule: { optimizerStep: number; adam: AdamWConfig; params: ParamsFile };
}

export interface Checkpoint {
  /** `params` or `lora`, `adam.m`, `adam.v`: raw little-endian f32. */
  files: Map<string, Blob>;
  meta: CheckpointMeta;
}

function paramsFile(model: Transformer, opt: AdamW): ParamsFile {
  return opt.params === model.loraParams ? 'lora' : 'params';
}

/**
 * Reads the run's state back from the GPU (call between steps). Refuses parameters that hold NaN or
 * ±Infinity: a diverged run must keep its last good checkpoint, not replace it with a broken one.
 */
export async function captureCheckpoint(model: Transformer, opt: AdamW, state: TrainState): Promise<Checkpoint> {
  const { gpu } = model.e;
  model.e.rec.submit();
  const which = paramsFile(model, opt);
  const files = new Map<string, Blob>();
  for (const [name, t] of [[which, opt.params.flat], ['adam.m', opt.m], ['adam.v', opt.v]] as const) {
    // readF32 returns a view of a fresh (non-shared) ArrayBuffer.
    const data = await readF32(gpu, t);
    const bad = data.findIndex((x) => !Number.isFinite(x));
    if (bad >= 0) {
      const what = name === which ? 'parameters' : `optimizer state "${name}"`;
      throw new Error(`training diverged: after step ${state.step} the ${what} hold ${data[bad]} (element ${bad}); lower the learning rate`);
    }
    files.set(name, new Blob([data as Float32Array<ArrayBuffer>]));
  }
  return { files, meta: { step: state.step, order: state.order.toJSON(), schedule: { optimizerStep: state.step, adam: { ...opt.cfg }, params: which } } };
}

async function readFile(ckpt: Checkpoint, name: string, elements: number): Promise<Float32Array> {
  const blob = ckpt.files.get(name);
  if (!blob) throw new Error(`the checkpoint at step ${ckpt.meta.step} has no "${name}" file`);
  if (blob.size !== elements * 4) {
    throw new RangeError(`the checkpoint's "${name}" holds ${blob.size / 4} values, this model has ${elements}: resume with the model and LoRA settings the run started with`);
  }
  return new Float32Array(await blob.arrayBuffer());
}

/**
 * Uploads the checkpoint into `model`/`opt` (built as the run built them) and returns the loop state to
 * continue from. `examples` is the size of the training set, which must be the one the run started on.
 */
export async function restoreCheckpoint(model: Transformer, opt: AdamW, ckpt: Checkpoint, examples: number): Promise<TrainState> {
  const { meta } = ckpt;
  const which = paramsFile(model, opt);
  if (meta.schedule.params !== which) {
    throw new Error(`the checkpoint trains ${meta.schedule.params === 'lora' ? 'LoRA adapters' : 'the full model'}, this run ${which === 'lora' ? 'LoRA adapters' : 'the full model'}`);
  }
  const order = DataOrder.fromJSON(meta.order, examples);
  const P = opt.params.totalElements;
  opt.params.upload(await readFile(ckpt, which, P));
  upload(model.e.gpu, opt.m, await readFile(ckpt, 'adam.m', P));
  upload(model.e.gpu, opt.v, await readFile(ckpt, 'adam.v', P));
  return { step: meta.schedule.optimizerStep, order };
}

/** Stores a checkpoint of run `runId`, keeping the `keepLast` most recent ones. */
export async function storeCheckpoint(db: PlantuneDb, runId: string, ckpt: Checkpoint, keepLast: number): Promise<void> {
  const { step, order, schedule } = ckpt.meta;
  // The only randomness is the data order (its RNG state is part of `dataOrder`) and GRPO's sampling,
  // seeded by (run seed, step): nothing else to store as `rng`.
  await saveCheckpoint(db, { runId, step, rng: null, dataOrder: order, schedule }, Object.fromEntries(ckpt.files), { keepLast });
}

/** The run's most recent stored checkpoint, or undefined when it has none. */
export async function loadLatestCheckpoint(db: PlantuneDb, runId: string): Promise<Checkpoint | undefined> {
  const record = await latestCheckpoint(db, runId);
  if (!record) return undefined;
  const files = new Map<string, Blob>();
  for (const { name } of record.files) {
    const blob = await getCheckpointFile(db, runId, record.step, name);
    if (!blob) throw new Error(`the checkpoint at step ${record.step} of run "${runId}" lost its file "${name}"`);
    files.set(name, blob);
  }
  const meta: CheckpointMeta = {
    step: record.step,
    order: record.dataOrder as DataOrderState,
    schedule: record.schedule as CheckpointMeta['schedule'],
  };
  return { files, meta };
}
