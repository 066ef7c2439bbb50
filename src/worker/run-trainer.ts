// What the run loop (run-api.ts) needs of a mode's trainer: where it is, and "train until told to stop".
// SFT and offline RL share one (run-loop-sft.ts); GRPO has its own (run-loop-grpo.ts).
import type { TrainState } from '../train/checkpoint';
import type { RunEvent } from './run-types';

export interface TrainerHooks {
  emit(ev: RunEvent): void;
  /** Stores a step's metrics (in order, in the background). */
  log(step: number, values: Record<string, number>): void;
}

export interface ModeTrainer {
  /** Steps completed and the data order: what a checkpoint saves. */
  readonly state: TrainState;
  /** Trains from `state.step` until `stop()` is true after a step, or the run's last step. Throws when training diverges. */
  train(stop: () => boolean): Promise<void>;
}
