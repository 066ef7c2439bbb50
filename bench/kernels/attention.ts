// Attention throughput: median ms and GFLOP/s of the fused causal forward and of forward+backward,
// for training shapes (B = 1, 2, 4; NH = 8; NKV = 4 and 8; HS = 32 and 64; T = 256 and 512), with
// the variant chosen for this adapter, next to the batched matmuls of the same sizes (q·kᵀ and p·v
// over B·NH heads through `matmul`, full not causal) as the yardstick; the ratio compares best
// samples, which other load on a shared CPU disturbs least.
// FLOPs, counting the causal half only: forward F = 4·B·NH·T²·HS/2 (q·kᵀ and p·v, 2 per
// multiply-add); backward 2.5·F (the FlashAttention-2 convention); forward+backward 3.5·F. The
// backward here executes 3.5·F itself (its dq and dk/dv passes each recompute q·kᵀ and dout·vᵀ):
// the rates quoted use the conventional 2.5·F.
import type { Engine } from '../../src/gpu/engine';
import type { Tensor } from '../../src/gpu/tensor';
import { createTensor } from '../../src/gpu/transfer';
import { attentionBackward, attentionClass, attentionForward, attentionVariant } from '../../src/kernels/attention';
import { tuneAttention } from '../../src/kernels/attention-tune';
import { matmul } from '../../src/kernels/matmul';
import { row, timeKernel } from '../timing';

const NH = 8;

function random(e: Engine, shape: number[]): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = Math.random() * 2 - 1;
  return createTensor(e.gpu, a, shape);
}

/** Best GFLOP/s of the batched matmuls q·kᵀ (T×HS by HS×T) and p·v (T×T by T×HS) over B·NH heads, together. */
async function matmulRate(e: Engine, B: number, T: number, HS: number): Promise<number> {
  const batch = B * NH;
  const q = random(e, [batch, T, HS]);
  const k = random(e, [batch, T, HS]);
  const s = e.pool.tensor([batch, T, T]);
  const o = e.pool.tensor([batch, T, HS]);
  const t = await timeKernel(
    e,
    async () => {
      await matmul(e, q, k, s, { transB: true });
      await matmul(e, s, k, o);
    },
    { warmup: 1, samples: 3 },
  );
  for (const x of [q, k]) x.buffer.destroy();
  e.pool.release(s);
  e.pool.release(o);
  return (2 * 2 * batch * T * T * HS) / (Math.min(...t.samples) * 1e6);
}

export async function benchAttention(e: Engine, log: (line: string) => void): Promise<void> {
  log(`attention on ${e.gpu.adapter.name} (subgroups: ${e.gpu.hasSubgroups}); variant per class from a timed trial (forward+backward, B 2, NKV 4; median ms):`);
  const classes = [32, 64].flatMap((HS) => [256, 512].map((T) => ({ kind: 'train' as const, B: 2, T, NH, NKV: 4, HS })));
  await tuneAttention(e, classes, {
    samples: 3,
    onTrial: (cls, results) => log(`  ${cls}: ${results.map((r) => `${r.variant} ${r.ms.toFixed(1)}`).join(', ')}`),
  });
  log('GFLOP/s with F = 4·B·NH·T²·HS/2 (causal forward), forward+backward = 3.5·F; matmul = q·kᵀ and p·v batched over B·NH, full.');
  log('Medians, and the best sample (less disturbed when other work shares the CPU); f+b/mm compares the best samples.');
  const W = [9, 3, 4, 4, 4, 5, 8, 9, 9, 9, 9, 9, 7];
  log(row(['variant', 'B', 'NH', 'NKV', 'HS', 'T', 'fwd ms', 'fwd GF/s', 'f+b ms', 'f+b GF/s', 'f+b best', 'mm best', 'f+b/mm'], W));
  for (const HS of [32, 64]) {
    for (const T of [256, 512]) {
      for (const B of [1, 2, 4]) {
        const mm = await matmulRate(e, B, T, HS);
        for (const NKV of [4, 8]) {
          const q = random(e, [B, T, NH, HS]);
          const k = random(e, [B, T, NKV, HS]);
          const v = random(e, [B, T, NKV, HS]);
          const dout = random(e, [B, T, NH, HS]);
          const out = e.pool.tensor([B, T, NH, HS]);
          const lse = e.pool.tensor([B, NH, T]);
          const dq = e.pool.tensor([B, T, NH, HS]);
          const dk = e.pool.tensor([B, T, NKV, HS]);
          const dv = e.pool.tensor([B, T, NKV, HS]);
          const F = (4 * B * NH * T * T * HS) / 2;
          const samples = F > 2e8 ? 3 : 5;
          const fwd = await timeKernel(e, () => attentionForward(e, q, k, v, out, lse), { warmup: 1, samples });
          const both = await timeKernel(
            e,
            async () => {
              await attentionForward(e, q, k, v, out, lse);
              await attentionBackward(e, dout, q, k, v, out, lse, dq, dk, dv);
            },
            { warmup: 1, samples },
          );
          const fb = (3.5 * F) / (both.medianMs * 1e6);
          const fbBest = (3.5 * F) / (Math.min(...both.samples) * 1e6);
          const cells = [B, NH, NKV, HS, T, fwd.medianMs.toFixed(1), (F / (fwd.medianMs * 1e6)).toFixed(2), both.medianMs.toFixed(1), fb.toFixed(2)];
          const variant = attentionVariant(e, undefined, 'benchAttention', attentionClass('train', HS, T));
          log(row([variant, ...cells, fbBest.toFixed(2), mm.toFixed(2), (fbBest / mm).toFixed(2)], W));
          for (const x of [q, k, v, dout]) x.buffer.destroy();
          for (const x of [out, lse, dq, dk, dv]) e.pool.release(x);
        }
      }
    }
  }
}
