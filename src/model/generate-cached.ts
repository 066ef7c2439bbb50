// Generation over a KV cache, with the options and results of generate.ts (the recompute path) so
// callers can switch: batched prompts of different lengths, greedy or temperature / top-k / top-p
// with a seed, stop on EOS or stop strings or max new tokens; ids and per-token log-probs.
// Step s samples the s-th new token with the same sample kernel and key (seed, s, row) as
// generate.ts, and prompts are chunked by the model's batch capacity as there, so both paths draw
// the same tokens from the same logits. Sequences are capped at the model's T (prompt + new tokens)
// as there too. Each step reads back only the B sampled ids and log-probs.
import { readF32, readI32 } from '../gpu/transfer';
import { sample } from '../kernels/sample';
import { Decoder } from './decode';
import type { GenerateOptions, Generation } from './generate';
import type { Transformer } from './transformer';

/** Generate for every prompt; prompts are processed in chunks of the model's batch capacity. */
export async function generateWithCache(model: Transformer, prompts: number[][], opts: GenerateOptions): Promise<Generation[]> {
  const out: Generation[] = [];
  for (let i = 0; i < prompts.length; i += model.opts.B) out.push(...(await generateChunk(model, prompts.slice(i, i + model.opts.B), opts, i)));
  return out;
}

async function generateChunk(model: Transformer, prompts: number[][], opts: GenerateOptions, firstRow: number): Promise<Generation[]> {
  const { e } = model;
  const B = prompts.length;
  const cap = model.opts.T;
  const padId = opts.padId ?? 0;
  for (const [i, p] of prompts.entries()) {
    if (p.length === 0) throw new RangeError(`generateWithCache: prompt ${firstRow + i} is empty`);
    if (p.length >= cap) throw new RangeError(`generateWithCache: prompt ${firstRow + i} has ${p.length} tokens; the model was allocated for ${cap}, which leaves no room to generate`);
  }
  const seqs = new Sequences(prompts, opts, cap);
  if (opts.maxNewTokens <= 0) return seqs.gens;
  // The last sampled token is never fed back, so the cache needs prompt + maxNewTokens - 1 positions.
  const Tp = Math.max(...prompts.map((p) => p.length));
  const dec = new Decoder(model, B, Math.min(cap, Tp + opts.maxNewTokens - 1));
  const next = e.pool.tensor([B], 'i32', 'generate tokens');
  const nextLogp = e.pool.tensor([B], 'f32', 'generate logprobs');
  try {
    for (let step = 0; step < opts.maxNewTokens && !seqs.allDone; step++) {
      const logits = step === 0 ? await dec.prefill(prompts, padId) : await dec.step(seqs.newest(padId), seqs.positions());
      await sample(e, logits, next, nextLogp, { temperature: opts.temperature ?? 0, topK: opts.topK, topP: opts.topP, seed: opts.seed ?? 0, step });
      e.rec.submit();
      const [ids, lps] = await Promise.all([readI32(e.gpu, next), readF32(e.gpu, nextLogp)]);
      seqs.accept(ids, lps);
    }
  } finally {
    dec.release();
    for (const t of [next, nextLogp]) e.pool.release(t);
  }
  return seqs.gens;
}

/** The sequences of one chunk as they grow, with generate.ts's stop rules. */
class Sequences {
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
