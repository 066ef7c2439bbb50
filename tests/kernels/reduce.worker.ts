// Runs the reduction in a dedicated Web Worker, to show the engine behaves the same there.
import { Engine } from '../../src/gpu/engine';
import { createTensor, fill, readF32 } from '../../src/gpu/transfer';
import { reduceRows, type ReduceOp } from '../../src/kernels/reduce';

self.onmessage = async (ev: MessageEvent<{ R: number; N: number; x: Float32Array; op: ReduceOp }>) => {
  try {
    const { R, N, x, op } = ev.data;
    const e = await Engine.create();
    const xt = createTensor(e.gpu, x, [R, N]);
    const out = e.pool.tensor([R]);
    fill(e.gpu, out, NaN);
    await reduceRows(e, xt, out, op);
    e.rec.submit();
    const result = await readF32(e.gpu, out);
    self.postMessage({ adapter: e.gpu.adapter.name, out: result, inWorker: typeof window === 'undefined' });
    e.gpu.destroy();
  } catch (err) {
    self.postMessage({ error: String(err) });
  }
};
