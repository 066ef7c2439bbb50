// Generation over a KV cache, with the options and results of generate.ts (the recompute path) so
// callers can switch: batched prompts of different lengths, greedy or temperature / top-k / top-p
// with a seed, stop on EOS or stop strings or max new tokens; ids and per-token log-probs.
// Prompts are decoded the model's genRows at a time (prefilled its batch capacity at a time). Step
// s samples the s-th new token of prompt i with the same sample kernel and key (seed, s, i) as
// generate.ts, so both paths draw the same tokens from the same logits. Sequences are capped at the
// model's T (prompt + new tokens) as there too. Each step reads back only the sampled ids and log-probs.
import { readF32, readI32 } from '../gpu/transfer';
import { sample } from '../kernels/sample';
import { Decoder } from './decode';
import { type GenerateOptions, type Generation, Sequences, inChunks } from './sequences';
import type { Transformer } from './transformer';

/** Generate for every prompt; prompts are processed in chunks of the model's genRows. */
export function generateWithCache(model: Transformer, prompts: number[][], opts: GenerateOptions): Promise<Generation[]> {
  return inChunks(model, prompts, 'generateWithCache', model.genRows, (part, first) => generateChunk(model, part, (opts.firstRow ?? 0) + first, opts));
}

// prompts are prompts first.. of the call (the sampling key's rows).
async function generateChunk(model: Transformer, prompts: number[][], first: number, opts: GenerateOptions): Promise<Generation[]> {
  const { e } = model;
  const B = prompts.length;
  const cap = model.opts.T;
  const padId = opts.padId ?? 0;
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
      await sample(e, logits, next, nextLogp, { temperature: opts.temperature ?? 0, topK: opts.topK, topP: opts.topP, seed: opts.seed ?? 0, step, rowBase: first });
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
