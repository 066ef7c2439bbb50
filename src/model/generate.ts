// Sampling from the GPU transformer: batched prompts of different lengths, greedy or
// temperature / top-k / top-p with a seed, stop on EOS or stop strings or max new tokens.
// Returns ids and per-token log-probs. Each step reads back only the B sampled ids and log-probs.
//
// This path recomputes the whole (right-padded) sequence every step, reusing the training
// forward: with causal attention the logits at each row's last real position do not depend on
// the padding after it.
import { createTensor, readF32, readI32, upload } from '../gpu/transfer';
import { gatherRows } from '../kernels/gather';
import { sample } from '../kernels/sample';
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
}

export interface Generation {
  tokens: number[];
  logprobs: number[];
  finish: 'eos' | 'stop' | 'length';
}

/** Generate for every prompt; prompts are processed in chunks of the model's batch capacity. */
export async function generate(model: Transformer, prompts: number[][], opts: GenerateOptions): Promise<Generation[]> {
  const out: Generation[] = [];
  for (let i = 0; i < prompts.length; i += model.opts.B) out.push(...(await generateChunk(model, prompts.slice(i, i + model.opts.B), opts, i)));
  return out;
}

async function generateChunk(model: Transformer, prompts: number[][], opts: GenerateOptions, firstRow: number): Promise<Generation[]> {
  const { e } = model;
  const B = prompts.length;
  const V = model.cfg.V;
  const cap = model.opts.T;
  const padId = opts.padId ?? 0;
  for (const [i, p] of prompts.entries()) {
    if (p.length === 0) throw new RangeError(`generate: prompt ${firstRow + i} is empty`);
    if (p.length >= cap) throw new RangeError(`generate: prompt ${firstRow + i} has ${p.length} tokens; the model was allocated for ${cap}, which leaves no room to generate`);
  }
  const seqs = prompts.map((p) => [...p]);
  const gens: Generation[] = prompts.map(() => ({ tokens: [], logprobs: [], finish: 'length' }));
  const done = new Array<boolean>(B).fill(false);
  const idx = createTensor(e.gpu, new Int32Array(B), [B], 'generate last rows');
  const last = e.pool.tensor([B, V], 'f32', 'generate logits');
  const next = e.pool.tensor([B], 'i32', 'generate tokens');
  const nextLogp = e.pool.tensor([B], 'f32', 'generate logprobs');
  try {
    for (let step = 0; step < opts.maxNewTokens; step++) {
      const T = Math.max(...seqs.map((s) => s.length));
      if (T > cap) break; // every unfinished row reached the allocated length: 'length'
      const tokens = new Int32Array(B * T).fill(padId);
      seqs.forEach((s, b) => tokens.set(s, b * T));
      model.setBatch(B, T, { tokens, targets: new Int32Array(B * T), weights: new Float32Array(B * T) });
      await model.forward();
      upload(e.gpu, idx, Int32Array.from(seqs, (s, b) => b * T + s.length - 1));
      await gatherRows(e, model.logits(), idx, last);
      await sample(e, last, next, nextLogp, { temperature: opts.temperature ?? 0, topK: opts.topK, topP: opts.topP, seed: opts.seed ?? 0, step });
      e.rec.submit();
      const [ids, lps] = await Promise.all([readI32(e.gpu, next), readF32(e.gpu, nextLogp)]);
      for (let b = 0; b < B; b++) {
        if (done[b]) continue;
        const id = ids[b];
        if (opts.eosIds?.includes(id)) {
          finish(b, 'eos');
          continue;
        }
        gens[b].tokens.push(id);
        gens[b].logprobs.push(lps[b]);
        seqs[b].push(id);
        if (opts.stopStrings?.length && opts.decode) {
          const text = opts.decode(gens[b].tokens);
          if (opts.stopStrings.some((s) => text.includes(s))) finish(b, 'stop');
        }
        if (!done[b] && seqs[b].length >= cap) done[b] = true; // 'length'
      }
      if (done.every(Boolean)) break;
    }
  } finally {
    idx.buffer.destroy();
    for (const t of [last, next, nextLogp]) e.pool.release(t);
  }
  return gens;

  function finish(b: number, why: Generation['finish']): void {
    done[b] = true;
    gens[b].finish = why;
  }
}

