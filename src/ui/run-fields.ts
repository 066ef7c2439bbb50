// The run form's numbers: label, default, allowed range and a one-line explanation each. Defaults run
// a short, visible plan SFT of the built-in model on SwiftShader (a CPU WebGPU) in about a minute.

export type NumberKey =
  | 'synthetic' | 'loraRank' | 'loraAlpha'
  | 'steps' | 'batch' | 'accum' | 'lr' | 'seq' | 'checkpointEvery' | 'seed'
  | 'evalCount' | 'evalEvery' | 'passK' | 'maxNewTokens'
  | 'prompts' | 'G' | 'temperature' | 'beta' | 'epsilon' | 'numIterations';

export interface NumberSpec {
  key: NumberKey;
  label: string;
  help: string;
  value: number;
  min: number;
  /** Greater than `min` rather than at least (a learning rate of 0 trains nothing). */
  minExclusive?: boolean;
  max: number;
  integer: boolean;
}

const int = (key: NumberKey, label: string, value: number, min: number, max: number, help: string): NumberSpec => ({ key, label, help, value, min, max, integer: true });
const real = (key: NumberKey, label: string, value: number, min: number, max: number, help: string, minExclusive = false): NumberSpec => ({ key, label, help, value, min, max, integer: false, minExclusive });

export const NUMBER_FIELDS: Record<NumberKey, NumberSpec> = {
  synthetic: int('synthetic', 'Synthetic problems', 200, 1, 100_000, 'Generated multi-step word problems with gold plans; the eval problems are held out from them.'),
  loraRank: int('loraRank', 'LoRA rank', 8, 1, 1024, 'Width of the low-rank adapters: higher learns more and costs more.'),
  loraAlpha: real('loraAlpha', 'LoRA alpha', 16, 0, 100_000, 'Adapter scale is alpha / rank; twice the rank is the usual choice.', true),
  steps: int('steps', 'Steps', 20, 1, 1_000_000, 'Optimizer updates.'),
  batch: int('batch', 'Batch', 4, 1, 1_000_000, 'Rows per micro-batch (GRPO: rows per forward pass). Memory grows with it.'),
  accum: int('accum', 'Accumulation', 1, 1, 1024, 'Micro-batches summed per step: a larger effective batch at the same memory.'),
  lr: real('lr', 'Learning rate', 1e-3, 0, 1, 'Peak rate, with a short warm-up and cosine decay to a tenth.', true),
  seq: int('seq', 'Sequence length', 256, 8, 1_000_000, 'Tokens per row; longer examples are left out. At most the model’s context.'),
  checkpointEvery: int('checkpointEvery', 'Checkpoint every', 10, 1, 1_000_000, 'Steps between saved checkpoints (one is also saved on pause, stop and at the end).'),
  seed: int('seed', 'Seed', 1, 0, 0xffffffff, 'Data order, LoRA init and sampling: the same seed gives the same run.'),
  evalCount: int('evalCount', 'Eval problems', 8, 0, 10_000, 'Held-out problems answered greedily before, during and after training (0: no eval).'),
  evalEvery: int('evalEvery', 'Eval every', 0, 0, 1_000_000, 'Steps between evals; 0 evaluates before and at the end only.'),
  passK: int('passK', 'pass@k samples', 0, 0, 64, 'Sampled answers per eval problem besides the greedy one (0: greedy only).'),
  maxNewTokens: int('maxNewTokens', 'Max new tokens', 160, 1, 1_000_000, 'Tokens generated per eval answer and per GRPO completion.'),
  prompts: int('prompts', 'Prompts per step', 4, 1, 4096, 'Problems sampled per GRPO step.'),
  G: int('G', 'Completions per prompt (G)', 4, 2, 64, 'A group of answers per problem; each is scored against the group’s mean reward.'),
  temperature: real('temperature', 'Temperature', 1, 0, 5, 'Sampling temperature of the completions.', true),
  beta: real('beta', 'KL weight (beta)', 0, 0, 10, 'Pull towards the model before RL; above 0 needs LoRA (the reference is the model with adapters off).'),
  epsilon: real('epsilon', 'Clip range (epsilon)', 0.2, 0, 1, 'How far one update may move a token’s probability ratio.', true),
  numIterations: int('numIterations', 'Passes per batch', 1, 1, 16, 'Optimizer passes over each batch of completions.'),
};

/** The learning rate a run starts from unless the user typed one: gentler for RL, higher for LoRA adapters. */
export function defaultLr(mode: 'sft' | 'grpo' | 'offline', lora: boolean): number {
  if (mode === 'grpo') return lora ? 1e-4 : 5e-5;
  return lora ? 2e-3 : 1e-3;
}

/** The message for a value outside its spec, or null when it is allowed. */
export function checkNumber(spec: NumberSpec, raw: string, max = spec.max): string | null {
  const text = raw.trim();
  const v = Number(text);
  const range = spec.minExclusive ? `above ${fmt(spec.min)} and at most ${fmt(max)}` : `from ${fmt(spec.min)} to ${fmt(max)}`;
  const ok = text !== '' && Number.isFinite(v) && (!spec.integer || Number.isInteger(v)) && (spec.minExclusive ? v > spec.min : v >= spec.min) && v <= max;
  return ok ? null : `${spec.label} must be ${spec.integer ? 'a whole number' : 'a number'} ${range}.`;
}

const fmt = (n: number): string => n.toLocaleString('en-US', { maximumFractionDigits: 6 });
