// Kernel tuning for one model: the matmul shapes of a real training step (collected while one
// forward + backward runs on a zero batch) and the model's attention class each get a timed trial
// of their variants, unless this adapter already remembers a choice (IndexedDB in a browser). Run
// once before training; later launches of those shape classes use the winners.
import { tuneAttention } from '../kernels/attention-tune';
import { collectMatmulShapes, tuneMatmul } from '../kernels/matmul';
import type { Transformer } from './transformer';

export interface TuneReport {
  /** Shape classes with a remembered choice after tuning. */
  matmulClasses: number;
  attentionClasses: number;
  seconds: number;
}

/** Tunes the kernels `model` launches at its full batch capacity (B, T); leaves its gradients zeroed. */
export async function tuneModel(model: Transformer): Promise<TuneReport> {
  const t0 = performance.now();
  const { e, cfg } = model;
  const { B, T } = model.opts;
  const n = B * T;
  model.setBatch(B, T, { tokens: new Int32Array(n), targets: new Int32Array(n), weights: new Float32Array(n).fill(1) });
  const training = model.grads !== null || model.loraGrads !== null;
  const shapes = await collectMatmulShapes(async () => {
    await model.forward(training ? { dscale: 1 } : {});
    if (training) await model.backward();
  });
  e.rec.submit();
  await e.rec.done();
  const matmul = await tuneMatmul(e, shapes);
  const attention = await tuneAttention(e, [{ kind: 'train', B, T, NH: cfg.NH, NKV: cfg.NKV, HS: cfg.HS }]);
  model.zeroGrads();
  e.rec.submit();
  return { matmulClasses: matmul.size, attentionClasses: attention.size, seconds: (performance.now() - t0) / 1000 };
}
