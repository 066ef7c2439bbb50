// GRPO in the worker: one GrpoTrainer step at a time (sample G completions per prompt, score, update),
// streaming a 'step' event (loss, lr, grad norm, training tokens/s, eta) and a 'reward' event (reward
// mean ± std, accuracy, KL, clip fraction, decode tokens/s, sample completions) per step.
import type { Tokenizer } from '../data/tokenizer/load';
import type { Transformer } from '../model/transformer';
import type { PromptItem } from '../train/batches';
import type { TrainState } from '../train/checkpoint';
import { type GrpoConfig, GrpoTrainer } from '../train/grpo';
import type { AdamW } from '../train/optimizer';
import type { ModeTrainer, TrainerHooks } from './run-trainer';

export function grpoTrainer(
  model: Transformer, opt: AdamW, tokenizer: Tokenizer, items: readonly PromptItem[], cfg: GrpoConfig, start: TrainState | undefined, hooks: TrainerHooks,
): ModeTrainer {
  const trainer = new GrpoTrainer(model, opt, tokenizer, items, cfg, start);
  return {
    get state() {
      return { step: trainer.step, order: trainer.order };
    },
    async train(stop) {
      const t0 = performance.now();
      const first = trainer.step;
      while (trainer.step < cfg.steps) {
        const m = await trainer.runStep();
        if (!Number.isFinite(m.loss) || !Number.isFinite(m.gradNorm)) {
          const what = Number.isFinite(m.loss) ? `the gradient norm is ${m.gradNorm}` : `the loss is ${m.loss}`;
          throw new Error(`training diverged: ${what} at step ${m.step}; lower the learning rate (it was ${m.lr.toExponential(2)})`);
        }
        const perStep = (performance.now() - t0) / 1000 / (m.step - first);
        hooks.emit({ type: 'step', step: m.step, loss: m.loss, lr: m.lr, gradNorm: m.gradNorm, tokensPerSecond: m.trainTokensPerSecond, eta: perStep * (cfg.steps - m.step) });
        hooks.emit({
          type: 'reward', step: m.step, rewardMean: m.rewardMean, rewardStd: m.rewardStd, accuracy: m.accuracy, kl: m.kl,
          clipFraction: m.clipFraction, decodeTokensPerSecond: m.decodeTokensPerSecond, samples: m.samples,
        });
        hooks.log(m.step, {
          loss: m.loss, lr: m.lr, gradNorm: m.gradNorm, tokensPerSecond: m.trainTokensPerSecond, rewardMean: m.rewardMean, rewardStd: m.rewardStd,
          rewardAccuracy: m.accuracy, kl: m.kl, clipFraction: m.clipFraction, decodeTokensPerSecond: m.decodeTokensPerSecond,
        });
        if (stop()) break;
      }
    },
  };
}
