// Mean completion loss (nats per scored token) over held-out examples: forward only, in batches.
import { readF32 } from '../gpu/transfer';
import type { Transformer } from '../model/transformer';
import { type TokenizedExample, lossTokenCount, makeBatch } from './batches';

export async function evalLoss(model: Transformer, examples: readonly TokenizedExample[], padId: number): Promise<number> {
  const { e } = model;
  let sum = 0;
  let count = 0;
  for (let i = 0; i < examples.length; i += model.opts.B) {
    const idx = Array.from({ length: Math.min(model.opts.B, examples.length - i) }, (_, j) => i + j);
    const T = Math.min(model.opts.T, Math.max(...idx.map((k) => examples[k].ids.length)) - 1);
    const m = makeBatch(examples, idx, { B: idx.length, T, padId });
    model.setBatch(m.B, m.T, m.batch);
    await model.forward();
    e.rec.submit();
    sum += (await readF32(e.gpu, model.tokenOutputs().loss)).reduce((a, b) => a + b, 0);
    count += lossTokenCount(m.batch);
  }
  return sum / Math.max(1, count);
}
