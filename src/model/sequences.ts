// What both generation paths share (generate.ts recomputes, generate-cached.ts uses a KV cache):
// options and results, prompt checks, chunking (by the model's batch capacity, or by its genRows
// with the KV cache), and the stop rules (EOS ids, stop strings, max new tokens, the model's
// sequence cap). Prompt i is sampled with row i of the key however the prompts are chunked, so
// both paths draw the same tokens from the same logits.
import type { Transformer } from './transformer';

export interface GenerateOptions {
  maxNewTokens: number;
  /** 0 = greedy. */
  temperature?: number;
  topK?: number;
  topP?: number;
  seed?: number;
  /** Token ids that end a sequence (not included in the output). */
  eosIds?: number[];
  /** Strings that end a sequence (checked on the decoded completion; the text up to them is kept). */
  stopStrings?: string[];
  /** Decodes completion ids, needed for stop strings. */
  decode?: (ids: number[]) => string;
  /** Padding id for rows that have finished or are shorter. */
  padId?: number;
  /** The sampling key's row of the first prompt (default 0): a caller generating a set in parts passes each part's offset. */
  firstRow?: number;
}

export interface Generation {
  tokens: number[];
  logprobs: number[];
  finish: 'eos' | 'stop' | 'length';
}

/**
 * Runs `chunk` over the prompts in pieces of `size`, after checking every prompt fits; `chunk` gets
 * the piece and the index of its first prompt (the sampling key's row base).
 */
export async function inChunks(
  model: Transformer, prompts: number[][], who: string, size: number, chunk: (part: number[][], first: number) => Promise<Generation[]>,
): Promise<Generation[]> {
  const cap = model.opts.T;
  for (const [i, p] of prompts.entries()) {
    if (p.length === 0) throw new RangeError(`${who}: prompt ${i} is empty`);
    if (p.length >= cap) throw new RangeError(`${who}: prompt ${i} has ${p.length} tokens; the model was allocated for ${cap}, which leaves no room to generate`);
  }
  const out: Generation[] = [];
  for (let i = 0; i < prompts.length; i += size) out.push(...(await chunk(prompts.slice(i, i + size), i)));
  return out;
}

/** The sequences of one chunk as they grow, and the stop rules both generation paths share. */
export class Sequences {
  private readonly seqs: number[][];
  private readonly done: boolean[];
  readonly gens: Generation[];

  constructor(
    prompts: number[][],
    private readonly opts: GenerateOptions,
    private readonly cap: number,
  ) {
    this.seqs = prompts.map((p) => [...p]);
    this.done = prompts.map(() => false);
    this.gens = prompts.map(() => ({ tokens: [], logprobs: [], finish: 'length' }));
  }

  /** Prompt + generated ids of each row so far. */
  get rows(): readonly (readonly number[])[] {
    return this.seqs;
  }

  get allDone(): boolean {
    return this.done.every(Boolean);
  }

  /** (B) the newest token of each sequence (padId once finished). */
  newest(padId: number): Int32Array {
    return Int32Array.from(this.seqs, (s, b) => (this.done[b] ? padId : s[s.length - 1]));
  }

  /** (B) the newest token's position (0 once finished: the row's cache is no longer read). */
  positions(): Uint32Array {
    return Uint32Array.from(this.seqs, (s, b) => (this.done[b] ? 0 : s.length - 1));
  }

  /** Takes one step's sampled ids and log-probs (B); finished rows ignore theirs. */
  accept(ids: Int32Array, lps: Float32Array): void {
    const { opts } = this;
    for (let b = 0; b < this.seqs.length; b++) {
      if (this.done[b]) continue;
      const g = this.gens[b];
      if (opts.eosIds?.includes(ids[b])) {
        this.finish(b, 'eos');
        continue;
      }
      g.tokens.push(ids[b]);
      g.logprobs.push(lps[b]);
      this.seqs[b].push(ids[b]);
      if (opts.stopStrings?.length && opts.decode) {
        const text = opts.decode(g.tokens);
        if (opts.stopStrings.some((s) => text.includes(s))) this.finish(b, 'stop');
      }
      if (this.seqs[b].length >= this.cap) this.done[b] = true; // 'length'
    }
  }

  private finish(b: number, why: Generation['finish']): void {
    this.done[b] = true;
    this.gens[b].finish = why;
  }
}
