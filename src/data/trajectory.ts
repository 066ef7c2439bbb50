// The one canonical record every trajectory format is parsed into.
// Data flows: file -> parser (src/data/formats/*) -> Trajectory -> store -> templates -> batches.

/** Formats Plantune reads. `auto` is resolved by content detection. */
export type SourceFormat =
  | 'gsm8k'
  | 'gsm8k-socratic'
  | 'ai-subq-raw'
  | 'ai-subq-dataset'
  | 'plan-tuning'
  | 'plantune'
  | 'trl-prompt-completion'
  | 'trl-messages';

/** One step of a plan: a sub-question and, when the source has it, its worked answer. */
export interface PlanStep {
  subQuestion: string;
  subAnswer?: string;
}

/** Offline-RL signal carried by scored trajectories (arXiv 2402.01812). */
export interface TrajectoryRewards {
  /** 1 when the final answer reached through this plan is correct, else 0. */
  answerCorrectness?: number;
  /** Per-step usefulness scores, when the source has them. */
  usefulness?: number[];
}

export interface FinalAnswer {
  /** The answer as written, e.g. "$1,080" or "3/4". */
  text: string;
  /** The numeric value when the answer is a number, e.g. 1080 or 0.75. */
  value?: number;
}

export interface Trajectory {
  /** Unique within a dataset, stable across re-imports of the same file (e.g. `<file>:<line>`). */
  id: string;
  /** Identifies the problem, for splits: rows about the same problem share it (contamination rule). */
  problemId: string;
  question: string;
  /** Ordered decomposition; empty only for formats without one (plain GSM8K solutions are split per step line). */
  plan: PlanStep[];
  /** Full worked solution text as the source gives it (annotations kept). */
  solution: string;
  finalAnswer: FinalAnswer;
  source: SourceFormat;
  rewards?: TrajectoryRewards;
  /** Anything else the source carried that is worth keeping (provenance, original fields). */
  meta?: Record<string, unknown>;
}
