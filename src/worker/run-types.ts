// The training-run part of the trainer worker's API: start, pause, resume, stop and list runs, with
// progress streamed to the page as events.
import type { TemplateStyle } from '../data/templates';
import type { RunMode, RunStatus } from '../store/runs';

/** A model the run builds from a HF config.json object with random weights (tests, from-scratch runs); byte-level tokenizer. */
export interface RandomModel {
  config: Record<string, unknown>;
  init: 'random';
  seed: number;
}

export interface RunConfig {
  mode: 'sft';
  name?: string;
  /** A served HF model folder (config.json, model.safetensors, tokenizer.json[, tokenizer_config.json]); default /models/plantune-tiny/. */
  modelDir?: string;
  /** Instead of `modelDir`: a randomly initialised model. */
  model?: RandomModel;
  /** N synthetic planning problems, or a stored dataset's train split (its eval split for eval). */
  data: { synthetic: number } | { datasetId: string };
  steps: number;
  /** Rows per micro-batch. */
  batch: number;
  /** Micro-batches per step (default 1). */
  accum?: number;
  lr: number;
  /** Sequence length T: longer examples are skipped. */
  seq: number;
  /** Held-out problems evaluated (0 = no eval). */
  evalCount: number;
  /** Evaluate every this many steps (default 0: at the end only). */
  evalEvery?: number;
  /** Tokens generated per eval problem (default 160). */
  maxNewTokens?: number;
  /** Save a checkpoint every this many steps (one is also saved on pause, stop and at the end). */
  checkpointEvery: number;
  /** Checkpoints kept (default 2). */
  keepLast?: number;
  /** Read the loss back every this many steps (default 1). */
  logEvery?: number;
  lora?: { rank: number; alpha?: number; targets?: string[] };
  /** Completion template (default plan-then-solve). */
  style?: TemplateStyle;
  /** Data order, random init and LoRA init (default 1). */
  seed?: number;
}

export type RunEvent =
  | { type: 'step'; step: number; loss: number; lr: number; gradNorm: number; tokensPerSecond: number; eta: number }
  | { type: 'eval'; step: number; accuracy: number; bySteps: Record<number, [number, number]> }
  | { type: 'status'; status: RunStatus; message: string }
  | { type: 'checkpoint'; step: number };

export interface RunInfo {
  id: string;
  name: string;
  mode: RunMode;
  status: RunStatus;
  error?: string;
  config: RunConfig;
  /** Step of the latest checkpoint (0 when there is none). */
  checkpointStep: number;
  createdAt: number;
  updatedAt: number;
}

export interface RunApi {
  /** Stores the run and starts it in the background; resolves with its id. One run trains at a time. */
  startRun(config: RunConfig, onEvent: (ev: RunEvent) => void): Promise<string>;
  /** Stops after the current step, saves a checkpoint, marks the run paused; resolves when it is. */
  pauseRun(runId: string): Promise<void>;
  /** Continues a paused (or interrupted, or failed) run from its latest checkpoint. */
  resumeRun(runId: string, onEvent: (ev: RunEvent) => void): Promise<void>;
  /** Ends the run early (after the current step, with a checkpoint): status completed. */
  stopRun(runId: string): Promise<void>;
  /** Newest first. */
  listRuns(): Promise<RunInfo[]>;
}
