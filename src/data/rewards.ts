// Reward functions for RL (GRPO) and for scoring samples: pure functions of one completion.

import { answersMatch, extractFinalAnswer, type AnswerLike } from './answers';
import { parseCompletion, type TemplateStyle } from './templates';

export interface RewardInput {
  /** The generated text after the prompt. */
  completion: string;
  /** The gold answer. */
  gold: AnswerLike;
  /** The template the completion was asked to follow. */
  style: TemplateStyle;
  /** Length of the completion in tokens, when known (the length penalty falls back to characters). */
  tokens?: number;
}

export type RewardFn = (input: RewardInput) => number;

/** Relative tolerance of numeric answer comparison. */
export const ANSWER_TOLERANCE = 1e-6;

/**
 * 1 when the completion's stated final answer equals the gold answer (numerically, within
 * ANSWER_TOLERANCE), else 0. Only an explicit answer counts (`####`, `\boxed{}`, "Final answer:",
 * "The answer is"): the last-number fallback would reward answers the model never committed to.
 */
export const correctnessReward: RewardFn = ({ completion, gold }) => {
  const stated = extractFinalAnswer(completion, { allowFallback: false });
  return stated !== undefined && answersMatch(stated, gold, ANSWER_TOLERANCE) ? 1 : 0;
};

/**
 * 1 when the completion follows its template's plan syntax with at least one well-formed step
 * (socratic steps need their `An:` line), else 0. For `direct`, whose template has no plan, 1 when
 * the completion is a bare `#### x` line.
 */
export const planFormatReward: RewardFn = ({ completion, style }) => {
  const parsed = parseCompletion(completion);
  if (style === 'direct') return parsed.style === 'direct' ? 1 : 0;
  return parsed.style === style && parsed.wellFormedSteps >= 1 ? 1 : 0;
};

export interface LengthPenaltyOptions {
  /** Lengths up to this are not penalised. */
  free: number;
  /** At and beyond this length the penalty is -1; in between it falls linearly. */
  max: number;
}

/** 0 up to `free` tokens (characters when `tokens` is not given), falling linearly to -1 at `max`. */
export function lengthPenalty({ free, max }: LengthPenaltyOptions): RewardFn {
  if (!(max > free && free >= 0)) throw new RangeError(`lengthPenalty needs 0 <= free < max, got free=${free}, max=${max}`);
  return ({ completion, tokens }) => -Math.min(1, Math.max(0, (tokens ?? completion.length) - free) / (max - free));
}

export interface WeightedReward {
  fn: RewardFn;
  weight: number;
}

/** The weighted sum of several rewards. */
export function composeRewards(parts: readonly WeightedReward[]): RewardFn {
  return (input) => parts.reduce((sum, { fn, weight }) => sum + weight * fn(input), 0);
}
