// SFT and offline RL in the worker: runSft over the session's examples (offline RL = the selected rows,
// with per-example weights for reward-weighted BC), streaming step events and metrics.
import type { Tokenizer } from '../data/tokenizer/load';
import type { Transformer } from '../model/transformer';
import type { TokenizedExample } from '../train/batches';
import type { TrainState } from '../train/checkpoint';
import type { AdamW } from '../train/optimizer';
import { type SftConfig, runSft } from '../train/sft';
import type { ModeTrainer, TrainerHooks } from './run-trainer';

export function sftTrainer(
  model: Transformer, opt: AdamW, tokenizer: Tokenizer, examples: readonly TokenizedExample[], cfg: SftConfig, state: TrainState, hooks: TrainerHooks,
): ModeTrainer {
  return {
    state,
    async train(stop) {
      // Evaluation is the run loop's (with samples and pass@k): no eval items here.
      await runSft(model, opt, tokenizer, examples, [], cfg, state, {
        onStep: (m) => {
          hooks.emit({ type: 'step', ...m });
          hooks.log(m.step, { loss: m.loss, lr: m.lr, gradNorm: m.gradNorm, tokensPerSecond: m.tokensPerSecond });
        },
        shouldStop: stop,
      });
    },
  };
}
