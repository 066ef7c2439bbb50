// The adapter's matmul peak for MFU: median GFLOP/s of a 1024×1024×1024 f32 matmul with the
// variant `matmul` picks by default (no override; the heuristic unless a tuned choice is remembered).
import type { Engine } from '../../src/gpu/engine';
import { createTensor } from '../../src/gpu/transfer';
import { describeMatmul, matmul } from '../../src/kernels/matmul';
import { timeKernel } from '../timing';

export interface Peak {
  gflops: number;
  ms: number;
  launch: string;
}

export async function matmulPeak(e: Engine): Promise<Peak> {
  const n = 1024;
  const rand = (): Float32Array => Float32Array.from({ length: n * n }, () => Math.random() * 2 - 1);
  const a = createTensor(e.gpu, rand(), [n, n]);
  const b = createTensor(e.gpu, rand(), [n, n]);
  const c = e.pool.tensor([n, n]);
  try {
    const t = await timeKernel(e, () => matmul(e, a, b, c), { warmup: 1, samples: 5 });
    return { gflops: (2 * n * n * n) / (t.medianMs * 1e6), ms: t.medianMs, launch: describeMatmul(e, { M: n, N: n, K: n }) };
  } finally {
    a.buffer.destroy();
    b.buffer.destroy();
    e.pool.release(c);
  }
}
