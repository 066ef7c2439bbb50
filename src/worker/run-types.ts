// The training-run part of the trainer worker's API: start, pause, resume, stop and list runs, with
// progress streamed to the page as events; metrics, evals and exports of stored runs.
import type { TemplateStyle } from '../data/templates';
import type { RunMode, RunStatus } from '../store/runs';
import type { AdvantageScale } from '../train/grpo-math';
import type { ModelRef } from './model-types';

/** A model the run builds from a HF config.json object with random weights (tests, from-scratch runs); byte-level tokenizer. */
export interface RandomModel {
  config: Record<string, unknown>;
  init: 'random';
  seed: number;
}

/** GRPO settings (TRL GRPOTrainer names in comments). Defaults in brackets. */
export interface GrpoRunSettings {
  /** Prompts per step [4]; each gets `G` completions. */
  prompts?: number;
  /** Completions per prompt (num_generations) [4]. */
  G?: number;
  /** Sampling temperature [1], top-k [0 = off], top-p [1]. */
  temperature?: number;
  topK?: number;
  topP?: number;
  /** Clip range (epsilon, epsilon_high) [0.2, 0.2]. */
  epsilon?: number;
  epsilonHigh?: number;
  /** KL weight to the reference policy (beta) [0]; > 0 needs LoRA (reference = adapters off). */
  beta?: number;
  /** Optimisation passes per batch of completions (num_iterations) [1]. */
  numIterations?: number;
  /** Advantage normalisation (scale_rewards) ['group']. */
  scale?: AdvantageScale;
  /** Truncated completions get no loss (mask_truncated_completions) [true]. */
  maskTruncated?: boolean;
  /** Reward weights [correctness 1, format 0.1]. */
  rewardWeights?: { correctness: number; format: number };
}

/** Offline RL on scored trajectories (arXiv 2402.01812). */
export interface OfflineRunSettings {
  /** filtered: behaviour cloning on rows with answer correctness 1; weighted: every scored row, weighted by it. */
  method: 'filtered' | 'weighted';
  /**
   * Where the scores come from: the rows' own `rewards.answerCorrectness` ('dataset', e.g. GSM8K-AI-SubQ),
   * or Plantune's correctness reward computed over each row's completion against its gold answer ('computed').
   */
  scores?: 'dataset' | 'computed';
}

export interface RunConfig {
  mode: 'sft' | 'grpo' | 'offline';
  name?: string;
  /** A served HF model folder (config.json, model.safetensors, tokenizer.json[, tokenizer_config.json]); default /models/plantune-tiny/. */
  modelDir?: string;
  /** Instead of `modelDir`: a model stored by `importModel` / `importHubModel`. */
  modelId?: string;
  /** Instead of `modelDir`: a randomly initialised model. */
  model?: RandomModel;
  /** Start from the weights of another run's latest checkpoint (e.g. GRPO after SFT); LoRA runs are merged into the base first. */
  fromRun?: string;
  /** The step of `fromRun`'s checkpoint to start from: default its latest, which startRun writes here so a resumed run rebuilds the same base. */
  fromStep?: number;
  /** N synthetic planning problems, or a stored dataset's train split (its eval split for eval). */
  data: { synthetic: number } | { datasetId: string };
  steps: number;
  /** Rows per micro-batch (SFT/offline); rows per forward pass in GRPO. */
  batch: number;
  /** Micro-batches per step (default 1). */
  accum?: number;
  lr: number;
  /** Sequence length T: longer examples are skipped. */
  seq: number;
  /** Held-out problems evaluated (0 = no eval). */
  evalCount: number;
  /** Evaluate every this many steps (default 0: before and at the end only). */
  evalEvery?: number;
  /** pass@k: k sampled completions per eval problem at temperature 1 besides the greedy one (default 0: greedy only). */
  passK?: number;
  /** Tokens generated per eval problem, and per GRPO completion (default 160). */
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
  /** Data order, random init, LoRA init and sampling (default 1). */
  seed?: number;
  grpo?: GrpoRunSettings;
  offline?: OfflineRunSettings;
}

/** A completion shown to the user: from eval (correct known) or GRPO (reward known). */
export interface SampleView {
  prompt: string;
  completion: string;
  gold?: string;
  predicted?: string | null;
  correct?: boolean;
  reward?: number;
  truncated?: boolean;
}

export interface EvalSummary {
  step: number;
  n: number;
  /** Greedy accuracy. */
  accuracy: number;
  /** Plan steps of the gold answer -> [n, correct]. */
  bySteps: Record<number, [number, number]>;
  /** pass@k over `passK` sampled completions, when configured. */
  passAtK?: { k: number; value: number };
  samples: SampleView[];
}

export type RunEvent =
  | { type: 'step'; step: number; loss: number; lr: number; gradNorm: number; tokensPerSecond: number; eta: number }
  | { type: 'reward'; step: number; rewardMean: number; rewardStd: number; accuracy: number; kl: number; clipFraction: number; decodeTokensPerSecond: number; samples: SampleView[] }
  | { type: 'eval'; step: number; accuracy: number; bySteps: Record<number, [number, number]>; passAtK?: { k: number; value: number }; samples: SampleView[] }
  | { type: 'progress'; phase: 'loading' | 'tokenizing' | 'tuning' | 'evaluating'; done: number; total: number }
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

/** Metric name -> series by increasing step (loss, lr, gradNorm, tokensPerSecond, rewardMean, rewardStd, accuracy, ...). */
export type RunMetrics = Record<string, { step: number; value: number }[]>;

export type ExportKind = 'safetensors' | 'peft' | 'metrics-csv' | 'metrics-json' | 'trajectories-jsonl';

export interface ExportedFile {
  name: string;
  blob: Blob;
}

export interface RunApi {
  /** Stores the run and starts it in the background; resolves with its id. One run trains at a time. Refuses before start a config that cannot fit the adapter, naming what to reduce. */
  startRun(config: RunConfig, onEvent: (ev: RunEvent) => void): Promise<string>;
  /** Stops after the current step, saves a checkpoint, marks the run paused; resolves when it is. */
  pauseRun(runId: string): Promise<void>;
  /** Continues a paused (or interrupted, or failed) run from its latest checkpoint. */
  resumeRun(runId: string, onEvent: (ev: RunEvent) => void): Promise<void>;
  /** Ends the run early (after the current step, with a checkpoint): status completed. */
  stopRun(runId: string): Promise<void>;
  /** Deletes a run that is not training, with its checkpoints, metrics and evals. */
  deleteRun(runId: string): Promise<void>;
  /** Newest first. */
  listRuns(): Promise<RunInfo[]>;
  /** Every metric logged by a run (for charts after a reload). */
  runMetrics(runId: string): Promise<RunMetrics>;
  /** The run's evaluations in step order (the first is "before", the last "after"). */
  runEvals(runId: string): Promise<EvalSummary[]>;
  /**
   * Files of a run's latest checkpoint or history: 'safetensors' = model.safetensors + config.json (+ tokenizer files),
   * LoRA merged; 'peft' = adapter_config.json + adapter_model.safetensors (LoRA runs only); metrics as CSV or JSON;
   * 'trajectories-jsonl' = the eval and GRPO samples as Plantune JSONL.
   */
  exportRun(runId: string, kind: ExportKind): Promise<ExportedFile[]>;
  /** Completions for free-form questions from a run's latest weights (or a model), greedy unless a temperature is given. */
  generate(source: { runId: string } | { model: ModelRef }, questions: string[], opts?: { maxNewTokens?: number; temperature?: number; seed?: number; style?: TemplateStyle }): Promise<SampleView[]>;
}
