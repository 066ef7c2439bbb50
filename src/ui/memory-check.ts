// The memory check before Start: the worker's estimate of what a run of this model with this batch,
// sequence length and LoRA rank needs on this adapter, asked once per distinct plan (after typing
// pauses), shown with what to reduce when it does not fit. Start waits for it and refuses a plan that does not fit.
import type * as Comlink from 'comlink';
import type { MemoryEstimate, ModelRef, TrainerApi } from '../worker/api';
import { el, messageOf } from './dom';
import { renderMemory } from './memory-view';
import type { MemoryPlan } from './run-form';

/** Wait this long after the last change before asking the worker. */
const DELAY_MS = 200;

export interface MemoryCheck {
  /** Estimates `plan` on `ref` (unless that pair was asked already). */
  request(ref: ModelRef, plan: MemoryPlan): void;
  /** No estimate is possible now; `why` is shown instead. */
  none(why: string): void;
  /** Why Start cannot go yet (estimating) or at all (does not fit), or null. */
  blocker(): string | null;
}

/** `settled` is called when an answer (or a failure) arrives. */
export function initMemoryCheck(trainer: Comlink.Remote<TrainerApi>, box: HTMLElement, settled: () => void): MemoryCheck {
  let current: { key: string; result?: MemoryEstimate; error?: string } | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;

  return {
    request(ref, plan) {
      const key = JSON.stringify([ref, plan]);
      if (current?.key === key) return; // asked already (or answered)
      clearTimeout(timer);
      const asked: NonNullable<typeof current> = { key };
      current = asked;
      box.classList.add('stale');
      timer = setTimeout(() => {
        void trainer
          .estimateMemory(ref, plan)
          .then((r) => {
            asked.result = r;
            if (current === asked) box.replaceChildren(renderMemory(r));
          })
          .catch((e: unknown) => {
            asked.error = messageOf(e);
            if (current === asked) box.replaceChildren(el('p', { class: 'warn' }, `The memory estimate failed: ${asked.error}`));
          })
          .finally(() => {
            if (current !== asked) return;
            box.classList.remove('stale');
            settled();
          });
      }, DELAY_MS);
    },
    none(why) {
      clearTimeout(timer);
      current = null;
      box.classList.remove('stale');
      box.replaceChildren(el('p', { class: 'muted' }, why));
    },
    blocker() {
      if (!current || current.error !== undefined) return null; // a failed estimate does not block: the worker checks again at start
      if (!current.result) return 'Estimating the memory this run needs…';
      if (current.result.fits) return null;
      return `This run does not fit on this GPU: ${current.result.problems[0] ?? 'reduce the batch or the sequence length, or use LoRA'}`;
    },
  };
}
