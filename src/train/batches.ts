// From trajectories to the (B, T) batches the GPU model trains on.
//
//   tokenizeExamples: Trajectory -> prompt ids ++ completion ids (+ EOS), with the loss mask
//   makeBatch:        examples -> tokens, targets, weights, each (B, T)
//   promptBatch:      examples -> prompt ids and gold answers, for generation and eval
//
// Next-token layout. A row holds a stream S of example tokens: tokens[t] = S[t], targets[t] = S[t + 1],
// and weights[t] = mask[t + 1] (position t is scored on predicting token t + 1, which is a target when
// its mask is 1). The stream's last token is only a target, so a row of T positions holds up to T + 1
// tokens. Positions past the stream hold padId as token and target, with weight 0.

import { buildLossMask } from '../data/loss-mask';
import { renderExample, type TemplateStyle } from '../data/templates';
import type { Tokenizer } from '../data/tokenizer/load';
import type { FinalAnswer, Trajectory } from '../data/trajectory';
import type { Batch } from '../model/transformer';

export interface TokenizedExample {
  /** The trajectory's id. */
  id: string;
  /** (L) prompt ids then completion ids: BOS first and EOS last when asked for. */
  ids: Int32Array;
  /** (L) mask[i] = 1 when ids[i] is a scored target (see buildLossMask). */
  mask: Uint8Array;
  /** ids[0, promptLength) is the prompt. */
  promptLength: number;
  /** The gold final answer, for eval. */
  answer: FinalAnswer;
  /** Plan steps, for eval by difficulty: meta.steps when the source records it, else plan.length. */
  steps: number;
}

export interface TokenizeOptions {
  style: TemplateStyle;
  /** Longest example kept, in tokens, BOS and EOS included. A batch row of T positions holds up to T + 1. */
  maxLength: number;
  /** Score the prompt tokens too (default false: completion only). */
  trainOnPrompt?: boolean;
  /** Start the prompt with BOS, when the tokenizer has one (default true). */
  addBos?: boolean;
  /** End the completion with EOS, so generation learns to stop (default true). Packing needs it. */
  addEos?: boolean;
}

export interface SkippedExample {
  id: string;
  reason: string;
}

/**
 * Renders and tokenizes each trajectory. Prompt and completion are encoded separately, as generation
 * sees them (the prompt's ids, then the model's). An example longer than maxLength is skipped, never
 * truncated: cutting the completion would drop its final answer and EOS and teach the model not to
 * finish. Every skipped example is listed with its reason.
 */
export function tokenizeExamples(
  trajectories: readonly Trajectory[],
  tokenizer: Pick<Tokenizer, 'encode' | 'eosId'>,
  options: TokenizeOptions,
): { examples: TokenizedExample[]; skipped: SkippedExample[] } {
  const { style, maxLength, trainOnPrompt = false, addBos = true, addEos = true } = options;
  if (!Number.isInteger(maxLength) || maxLength < 2) throw new RangeError(`maxLength must be an integer >= 2, got ${maxLength}`);
  const examples: TokenizedExample[] = [];
  const skipped: SkippedExample[] = [];
  for (const t of trajectories) {
    const { prompt, completion } = renderExample(t, style);
    const promptIds = tokenizer.encode(prompt, { addBos });
    const completionIds = addEos ? [...tokenizer.encode(completion), tokenizer.eosId] : tokenizer.encode(completion);
    const length = promptIds.length + completionIds.length;
    if (completionIds.length === 0) {
      skipped.push({ id: t.id, reason: 'the completion is empty: nothing to learn' });
    } else if (length > maxLength) {
      skipped.push({
        id: t.id,
        reason: `prompt+completion is ${length} tokens (prompt ${promptIds.length}, completion ${completionIds.length}), longer than max length ${maxLength}`,
      });
    } else {
      const { ids, mask } = buildLossMask(promptIds, completionIds, { trainOnPrompt });
      const steps = typeof t.meta?.steps === 'number' ? t.meta.steps : t.plan.length;
      examples.push({ id: t.id, ids, mask, promptLength: promptIds.length, answer: t.finalAnswer, steps });
    }
  }
  return { examples, skipped };
}

export interface BatchOptions {
  /** Rows and positions per row. */
  B: number;
  T: number;
  /** Token and target of padding positions (weight 0). */
  padId: number;
  /**
   * Pack several examples per row (default false: one example per row, right-padded). Examples are
   * placed whole, each in the first row with room, in the order given; those that fit nowhere come
   * back in `leftover` (hand them to DataOrder.putBack). Attention is NOT blocked between packed
   * examples: each token attends causally to the whole row, earlier examples included, as in common
   * packing implementations (the examples are separated by EOS / BOS, and no loss is put on the
   * boundary). That cross-example context is why padding is the default.
   */
  pack?: boolean;
  /**
   * Per-example weight multiplier, indexed like `examples` (reward-weighted BC: weight = w·mask).
   * Default 1 for every example.
   */
  exampleWeights?: ArrayLike<number>;
}

export interface MadeBatch {
  batch: Batch;
  B: number;
  T: number;
  /** Example indices in each row, in row order (B lists; empty for an all-padding row). */
  rows: number[][];
  /** Indices that did not fit (packing only; always empty when padding). */
  leftover: number[];
  /** Positions holding an example token that has a next token: the tokens the model processes. */
  tokensInBatch: number;
  /** Non-zero weights: the mean-loss divisor. */
  lossTokens: number;
}

/** (B·T) batch from `indices` into `examples`. Unused rows are all padding (weight 0). */
export function makeBatch(examples: readonly TokenizedExample[], indices: readonly number[], options: BatchOptions): MadeBatch {
  const { B, T, padId, pack = false, exampleWeights } = options;
  if (!Number.isInteger(B) || B < 1 || !Number.isInteger(T) || T < 1) throw new RangeError(`batch shape must be positive integers, got B = ${B}, T = ${T}`);
  if (exampleWeights && exampleWeights.length !== examples.length) {
    throw new RangeError(`exampleWeights has ${exampleWeights.length} entries for ${examples.length} examples`);
  }
  for (const i of indices) {
    if (!Number.isInteger(i) || i < 0 || i >= examples.length) throw new RangeError(`example index ${i} is outside [0, ${examples.length})`);
    if (examples[i].ids.length > T + 1) throw new RangeError(`example ${examples[i].id} has ${examples[i].ids.length} tokens; a row of T = ${T} holds at most ${T + 1}`);
  }
  if (!pack && indices.length > B) throw new RangeError(`${indices.length} examples do not fit ${B} rows without packing`);

  const { rows, leftover } = pack ? packRows(examples, indices, B, T) : { rows: Array.from({ length: B }, (_, r) => indices.slice(r, r + 1)), leftover: [] };
  const batch: Batch = {
    tokens: new Int32Array(B * T).fill(padId),
    targets: new Int32Array(B * T).fill(padId),
    weights: new Float32Array(B * T),
  };
  let tokensInBatch = 0;
  const stream = new Int32Array(T + 1);
  const streamWeight = new Float32Array(T + 1);
  rows.forEach((row, r) => {
    // stream (S) is (T + 1): the row's examples back to back; streamWeight[s] = w·mask of S[s].
    let length = 0;
    for (const i of row) {
      const { ids, mask } = examples[i];
      const w = exampleWeights ? exampleWeights[i] : 1;
      stream.set(ids, length);
      for (let k = 0; k < ids.length; k++) streamWeight[length + k] = w * mask[k];
      length += ids.length;
    }
    const used = Math.max(length - 1, 0);
    const at = r * T;
    batch.tokens.set(stream.subarray(0, used), at);
    batch.targets.set(stream.subarray(1, used + 1), at);
    batch.weights.set(streamWeight.subarray(1, used + 1), at);
    tokensInBatch += used;
  });
  return { batch, B, T, rows, leftover, tokensInBatch, lossTokens: lossTokenCount(batch) };
}

/** First fit, in the given order: each example goes to the first of B rows with room (T + 1 tokens each). */
function packRows(examples: readonly TokenizedExample[], indices: readonly number[], B: number, T: number): { rows: number[][]; leftover: number[] } {
  const rows: number[][] = Array.from({ length: B }, () => []);
  const room = new Array<number>(B).fill(T + 1);
  const leftover: number[] = [];
  for (const i of indices) {
    const length = examples[i].ids.length;
    const r = room.findIndex((left) => left >= length);
    if (r < 0) {
      leftover.push(i);
    } else {
      rows[r].push(i);
      room[r] -= length;
    }
  }
  return { rows, leftover };
}

/** Number of non-zero weights: the divisor of the mean loss. */
export function lossTokenCount(batch: Batch): number {
  let n = 0;
  for (const w of batch.weights) if (w !== 0) n++;
  return n;
}

export interface PromptItem {
  /** Index into `examples`. */
  index: number;
  id: string;
  /** The prompt's ids (BOS included when the examples have it); lengths differ. */
  prompt: Int32Array;
  answer: FinalAnswer;
  steps: number;
}

/** The prompts of `indices`, for generation and eval, with the gold answers. */
export function promptBatch(examples: readonly TokenizedExample[], indices: readonly number[]): PromptItem[] {
  return indices.map((index) => {
    const e = examples[index];
    if (!e) throw new RangeError(`example index ${index} is outside [0, ${examples.length})`);
    return { index, id: e.id, prompt: e.ids.slice(0, e.promptLength), answer: e.answer, steps: e.steps };
  });
}
