// Tokenized examples and (B, T) batches, on the byte-level tokenizer with synthetic problems and real
// GSM8K rows: the loss mask lands on exactly the completion + EOS, padding and packing lay rows out as
// documented, over-long examples are reported, and a packed run resumes exactly.

import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { FORMAT_PARSERS } from '../../src/data/formats';
import { syntheticProblems } from '../../src/data/synthetic';
import { renderExample, renderPrompt, TEMPLATE_STYLES } from '../../src/data/templates';
import { byteLevelTokenizerConfig, byteLevelTokenizerJson, EOS_TOKEN } from '../../src/data/tokenizer/byte-level';
import { loadTokenizer, type Tokenizer } from '../../src/data/tokenizer/load';
import type { Trajectory } from '../../src/data/trajectory';
import { lossTokenCount, makeBatch, promptBatch, tokenizeExamples, type MadeBatch, type TokenizedExample } from '../../src/train/batches';
import { DataOrder } from '../../src/train/data-order';
import { dataPath } from '../data/helpers';

/** The first `count` rows of GSM8K's test set, through the real GSM8K parser. */
function gsm8kRows(count: number): Trajectory[] {
  const lines = readFileSync(dataPath('gsm8k/test.jsonl'), 'utf8').split('\n').slice(0, count);
  return lines.map((line, i) => {
    const parsed = FORMAT_PARSERS.gsm8k.parse(JSON.parse(line), { file: 'test.jsonl', line: i + 1 });
    if (!('question' in parsed)) throw new Error(`GSM8K row ${i + 1} rejected: ${JSON.stringify(parsed)}`);
    return parsed;
  });
}

let tok: Tokenizer;
let trajectories: Trajectory[];
beforeAll(async () => {
  tok = await loadTokenizer(byteLevelTokenizerJson(), byteLevelTokenizerConfig(1024));
  trajectories = [...syntheticProblems({ seed: 3, count: 40 }), ...gsm8kRows(3)];
});

/** Row r of a (B, T) array. */
const row = <A extends Int32Array | Float32Array>(a: A, r: number, T: number): A => a.subarray(r * T, (r + 1) * T) as A;

/** Decoded targets of row r whose weight is non-zero: what the loss is computed on. */
function scoredText(made: MadeBatch, r: number): string {
  const { batch, T } = made;
  const w = row(batch.weights, r, T);
  return tok.decode(Array.from(row(batch.targets, r, T)).filter((_, t) => w[t] !== 0));
}

describe('tokenizeExamples', () => {
  it.each(TEMPLATE_STYLES)('%s: BOS + prompt, then completion + EOS, with the ids the tokenizer gives', (style) => {
    const { examples, skipped } = tokenizeExamples(trajectories, tok, { style, maxLength: 1024 });
    expect(skipped).toEqual([]);
    expect(examples).toHaveLength(trajectories.length);
    examples.forEach((e, i) => {
      const t = trajectories[i];
      const { prompt, completion } = renderExample(t, style);
      expect(e.id).toBe(t.id);
      expect(Array.from(e.ids)).toEqual([...tok.encode(prompt, { addBos: true }), ...tok.encode(completion), tok.eosId]);
      expect(e.promptLength).toBe(tok.encode(prompt, { addBos: true }).length);
      expect(tok.decode(Array.from(e.ids.subarray(e.promptLength)))).toBe(completion + EOS_TOKEN);
      expect(e.answer).toEqual(t.finalAnswer);
      expect(e.steps).toBe(t.source === 'gsm8k' ? t.plan.length : t.meta?.steps);
    });
  });

  it('honours addBos / addEos = false and trainOnPrompt', () => {
    const t = trajectories[0];
    const [plain] = tokenizeExamples([t], tok, { style: 'socratic', maxLength: 1024, addBos: false, addEos: false }).examples;
    const { prompt, completion } = renderExample(t, 'socratic');
    expect(tok.decode(Array.from(plain.ids))).toBe(prompt + completion);
    expect(Array.from(plain.mask.subarray(0, plain.promptLength)).every((m) => m === 0)).toBe(true);
    const [all] = tokenizeExamples([t], tok, { style: 'socratic', maxLength: 1024, trainOnPrompt: true }).examples;
    expect(Array.from(all.mask)).toEqual([0, ...new Array<number>(all.ids.length - 1).fill(1)]);
  });

  it('skips over-long examples, each with its reason, and keeps the rest in order', () => {
    const lengths = tokenizeExamples(trajectories, tok, { style: 'plan-then-solve', maxLength: 1024 }).examples.map((e) => e.ids.length);
    const maxLength = [...lengths].sort((a, b) => a - b)[Math.floor(lengths.length / 2)];
    const { examples, skipped } = tokenizeExamples(trajectories, tok, { style: 'plan-then-solve', maxLength });
    const long = trajectories.filter((_, i) => lengths[i] > maxLength);
    expect(skipped.map((s) => s.id)).toEqual(long.map((t) => t.id));
    expect(examples.map((e) => e.id)).toEqual(trajectories.filter((_, i) => lengths[i] <= maxLength).map((t) => t.id));
    expect(examples.some((e) => e.ids.length === maxLength)).toBe(true); // the limit itself is kept
    const i = trajectories.findIndex((t) => t.id === skipped[0].id);
    const promptLength = tok.encode(renderPrompt(trajectories[i].question), { addBos: true }).length;
    expect(skipped[0].reason).toBe(
      `prompt+completion is ${lengths[i]} tokens (prompt ${promptLength}, completion ${lengths[i] - promptLength}), longer than max length ${maxLength}`,
    );
    expect(() => tokenizeExamples(trajectories, tok, { style: 'direct', maxLength: 1 })).toThrow('maxLength must be an integer >= 2');
  });

  it('skips an example whose completion has no tokens', () => {
    const t: Trajectory = { ...trajectories[0], plan: [], finalAnswer: { text: '' } };
    const fake = { eosId: tok.eosId, encode: (text: string) => (text.startsWith('####') ? [] : tok.encode(text)) };
    const { examples, skipped } = tokenizeExamples([t], fake, { style: 'direct', maxLength: 1024, addEos: false });
    expect(examples).toEqual([]);
    expect(skipped).toEqual([{ id: t.id, reason: 'the completion is empty: nothing to learn' }]);
  });
});

describe('makeBatch, padding', () => {
  let examples: TokenizedExample[];
  /** Positions that fit the longest example. */
  let T: number;
  beforeAll(() => {
    examples = tokenizeExamples(trajectories, tok, { style: 'socratic', maxLength: 1024 }).examples;
    T = Math.max(...examples.map((e) => e.ids.length)) + 3;
  });

  it('scores exactly the completion + EOS of each row (weight[t] = mask[t + 1])', () => {
    const indices = [0, 5, examples.length - 1, examples.length - 2, 7];
    const made = makeBatch(examples, indices, { B: 6, T, padId: tok.padId });
    indices.forEach((i, r) => {
      expect(scoredText(made, r)).toBe(renderExample(trajectories[i], 'socratic').completion + EOS_TOKEN);
    });
    expect(made.rows).toEqual([...indices.map((i) => [i]), []]);
    expect(made.leftover).toEqual([]);
  });

  it('lays each row out as tokens = ids[0..L-2], targets = ids[1..L-1], then padding', () => {
    const indices = [1, 2, 3];
    const { batch, B, tokensInBatch, lossTokens } = makeBatch(examples, indices, { B: 4, T, padId: tok.padId });
    expect([batch.tokens.length, batch.targets.length, batch.weights.length, B]).toEqual([4 * T, 4 * T, 4 * T, 4]);
    indices.forEach((i, r) => {
      const { ids, mask } = examples[i];
      const L = ids.length;
      const pad = new Array<number>(T - (L - 1)).fill(tok.padId);
      expect(Array.from(row(batch.tokens, r, T))).toEqual([...ids.subarray(0, L - 1), ...pad]);
      expect(Array.from(row(batch.targets, r, T))).toEqual([...ids.subarray(1), ...pad]);
      expect(Array.from(row(batch.weights, r, T))).toEqual([...mask.subarray(1), ...pad.map(() => 0)]);
    });
    expect(Array.from(row(batch.tokens, 3, T)).every((x) => x === tok.padId)).toBe(true);
    expect(Array.from(row(batch.weights, 3, T)).every((x) => x === 0)).toBe(true);
    expect(tokensInBatch).toBe(indices.reduce((n, i) => n + examples[i].ids.length - 1, 0));
    expect(lossTokens).toBe(indices.reduce((n, i) => n + examples[i].ids.length - examples[i].promptLength, 0));
    expect(lossTokenCount(batch)).toBe(lossTokens);
  });

  it('fits an example of T + 1 tokens in a row of T, and refuses a longer one', () => {
    const L = examples[0].ids.length;
    const made = makeBatch(examples, [0], { B: 1, T: L - 1, padId: tok.padId });
    expect(Array.from(made.batch.targets)).toEqual(Array.from(examples[0].ids.subarray(1)));
    expect(() => makeBatch(examples, [0], { B: 1, T: L - 2, padId: tok.padId })).toThrow(`has ${L} tokens; a row of T = ${L - 2} holds at most ${L - 1}`);
  });

  it('multiplies each example\'s weights by its exampleWeights entry (negative allowed)', () => {
    const exampleWeights = examples.map((_, i) => (i % 2 === 0 ? 0.5 : -2));
    const { batch } = makeBatch(examples, [2, 3], { B: 2, T, padId: tok.padId, exampleWeights });
    const values = (r: number) => new Set(Array.from(row(batch.weights, r, T)));
    expect(values(0)).toEqual(new Set([0, 0.5]));
    expect(values(1)).toEqual(new Set([0, -2]));
    expect(() => makeBatch(examples, [0], { B: 1, T, padId: 0, exampleWeights: [1] })).toThrow(`exampleWeights has 1 entries for ${examples.length} examples`);
  });

  it('checks indices, shape, and row count', () => {
    expect(() => makeBatch(examples, [examples.length], { B: 1, T, padId: 0 })).toThrow('outside');
    expect(() => makeBatch(examples, [0, 1, 2], { B: 2, T, padId: 0 })).toThrow('3 examples do not fit 2 rows without packing');
    expect(() => makeBatch(examples, [0], { B: 0, T, padId: 0 })).toThrow('batch shape must be positive integers');
  });
});

describe('makeBatch, packing', () => {
  let examples: TokenizedExample[];
  const B = 3;
  const T = 300;
  beforeAll(() => {
    examples = tokenizeExamples(trajectories, tok, { style: 'direct', maxLength: T + 1 }).examples;
  });

  it('places whole examples, first fit, and hands back only those that fit nowhere', () => {
    const indices = Array.from({ length: examples.length }, (_, i) => i);
    const made = makeBatch(examples, indices, { B, T, padId: tok.padId, pack: true });
    const { batch, rows, leftover } = made;
    expect([...rows.flat(), ...leftover].sort((a, b) => a - b)).toEqual(indices);
    expect(leftover.length).toBeGreaterThan(0);
    expect(rows.every((r) => r.length >= 2)).toBe(true);

    rows.forEach((r, ri) => {
      // The row's stream, rebuilt from tokens plus the final target, is its examples back to back.
      const used = r.reduce((n, i) => n + examples[i].ids.length, 0) - 1;
      const stream = [...row(batch.tokens, ri, T).subarray(0, used), row(batch.targets, ri, T)[used - 1]];
      expect(stream).toEqual(r.flatMap((i) => Array.from(examples[i].ids)));
      expect(Array.from(row(batch.tokens, ri, T).subarray(used)).every((x) => x === tok.padId)).toBe(true);
      // The loss is on each example's completion + EOS, never on the boundary between examples.
      const completions = r.map((i) => renderExample(trajectories.find((t) => t.id === examples[i].id) as Trajectory, 'direct').completion + EOS_TOKEN);
      expect(scoredText(made, ri)).toBe(completions.join(''));
      // Rows are full: no leftover example fits the room a row has left.
      const room = T + 1 - (used + 1);
      expect(leftover.every((i) => examples[i].ids.length > room)).toBe(true);
    });
    expect(made.tokensInBatch).toBe(rows.reduce((n, r) => n + r.reduce((m, i) => m + examples[i].ids.length, 0) - 1, 0));
    expect(made.lossTokens).toBe(rows.flat().reduce((n, i) => n + examples[i].ids.length - examples[i].promptLength, 0));
  });

  it('a packed run driven by DataOrder + putBack resumes exactly', () => {
    const step = (order: DataOrder) => {
      const made = makeBatch(examples, order.next(3 * B), { B, T, padId: tok.padId, pack: true });
      order.putBack(made.leftover);
      return made.rows;
    };
    const straight = new DataOrder(examples.length, 8);
    const expected = Array.from({ length: 12 }, () => step(straight));

    const first = new DataOrder(examples.length, 8);
    const got = Array.from({ length: 5 }, () => step(first));
    expect(first.toJSON().pending.length).toBeGreaterThan(0);
    const resumed = DataOrder.fromJSON(JSON.parse(JSON.stringify(first)), examples.length);
    got.push(...Array.from({ length: 7 }, () => step(resumed)));
    expect(got).toEqual(expected);
  });
});

describe('promptBatch', () => {
  it('gives each prompt\'s ids (different lengths) with its gold answer', () => {
    const { examples } = tokenizeExamples(trajectories, tok, { style: 'plan-then-solve', maxLength: 1024 });
    const indices = [examples.length - 1, 0, 4];
    const items = promptBatch(examples, indices);
    expect(items.map((p) => p.index)).toEqual(indices);
    items.forEach((p, k) => {
      const t = trajectories[indices[k]];
      expect(p.id).toBe(t.id);
      expect(tok.decode(Array.from(p.prompt))).toBe('<s>' + renderPrompt(t.question));
      expect(p.answer).toEqual(t.finalAnswer);
      expect(p.steps).toBe(examples[indices[k]].steps);
    });
    expect(new Set(items.map((p) => p.prompt.length)).size).toBe(3);
    expect(() => promptBatch(examples, [examples.length])).toThrow('outside');
  });
});
