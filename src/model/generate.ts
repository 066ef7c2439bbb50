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
import { type GenerateOptions, type Generation, Sequences, inChunks } from './sequences';
import type { Transformer } from './transformer';

export type { GenerateOptions, Generation } from './sequences';

/** Generate for every prompt; prompts are processed in chunks of the model's batch capacity. */
export function generate(model: Transformer, prompts: number[][], opts: GenerateOptions): Promise<Generation[]> {
  return inChunks(model, prompts, 'generate', model.opts.B, (part, first) => generateChunk(model, part, (opts.firstRow ?? 0) + first, opts));
}

// prompts are prompts first.. of the call (the sampling key's rows).
async function generateChunk(model: Transformer, prompts: number[][], first: number, opts: GenerateOptions): Promise<Generation[]> {
  const { e } = model;
  const B = prompts.length;
  const V = model.cfg.V;
  const padId = opts.padId ?? 0;
  const seqs = new Sequences(prompts, opts, model.opts.T);
  const idx = createTensor(e.gpu, new Int32Array(B), [B], 'generate last rows');
  const last = e.pool.tensor([B, V], 'f32', 'generate logits');
  const next = e.pool.tensor([B], 'i32', 'generate tokens');
  const nextLogp = e.pool.tensor([B], 'f32', 'generate logprobs');
  try {
    for (let step = 0; step < opts.maxNewTokens && !seqs.allDone; step++) {
      const rows = seqs.rows;
      const T = Math.max(...rows.map((s) => s.length));
      const tokens = new Int32Array(B * T).fill(padId);
      rows.forEach((s, b) => tokens.set(s, b * T));
      model.setBatch(B, T, { tokens, targets: new Int32Array(B * T), weights: new Float32Array(B * T) });
      await model.forward();
      upload(e.gpu, idx, Int32Array.from(rows, (s, b) => b * T + s.length - 1));
      await gatherRows(e, model.logits(), idx, last);
      await sample(e, last, next, nextLogp, { temperature: opts.temperature ?? 0, topK: opts.topK, topP: opts.topP, seed: opts.seed ?? 0, step, rowBase: first });
      e.rec.submit();
      const [ids, lps] = await Promise.all([readI32(e.gpu, next), readF32(e.gpu, nextLogp)]);
      seqs.accept(ids, lps);
    }
  } finally {
    idx.buffer.destroy();
    for (const t of [last, next, nextLogp]) e.pool.release(t);
  }
  return seqs.gens;
}
