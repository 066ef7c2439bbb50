// A linear layer on the GPU, forward and backward side by side, with an optional LoRA adapter.
// HF convention: w is (out, in) and y = x·wᵀ + b. LoRA adds scale·(x·Aᵀ)·Bᵀ with A (r, in), B (out, r).
// Tensors larger than one storage binding (the LM head on a real vocabulary) are split into row
// blocks and output chunks (linear-split.ts); when everything fits that is one block, no chunks.
import type { Engine } from '../gpu/engine';
import type { Tensor } from '../gpu/tensor';
import { matmul } from '../kernels/matmul';
import { reduceCols } from '../kernels/reduce';
import { rowChunk } from '../kernels/split';
import { backwardByOutputChunks, forwardByOutputChunks, planLinear } from './linear-split';

export interface LoraWeights {
  A: Tensor;
  B: Tensor;
  scale: number;
  /** Saved by the forward for the backward: u = x·Aᵀ, (N, r). */
  u: Tensor;
}

export interface LoraGrads {
  dA: Tensor;
  dB: Tensor;
  /** Scratch for du = scale·dy·B, (N, r). */
  du: Tensor;
}

// x is (N,in), w is (out,in), b is (out) or null; y is (N,out)
// y = x·wᵀ + b  (+ scale·(x·Aᵀ)·Bᵀ with LoRA)
export async function linearForward(e: Engine, x: Tensor, w: Tensor, b: Tensor | null, y: Tensor, lora?: LoraWeights): Promise<void> {
  const split = planLinear(e, x, w, y, lora ? lora.A.shape[0] : 0);
  for (const block of split.rows) {
    const [xb, yb] = [rowChunk(x, block), rowChunk(y, block)];
    if (split.out) await forwardByOutputChunks(e, xb, w, b, yb, split.out);
    else await matmul(e, xb, w, yb, { transB: true, bias: b ?? undefined });
    if (lora) {
      const u = rowChunk(lora.u, block);
      await matmul(e, xb, lora.A, u, { transB: true }); // u = x·Aᵀ
      await matmul(e, u, lora.B, yb, { transB: true, accumulate: true, alpha: lora.scale }); // y += scale·u·Bᵀ
    }
  }
}

export interface LinearGrads {
  /** dw += dyᵀ·x; omitted when w is frozen (LoRA). */
  dw?: Tensor;
  /** db += Σ_rows dy; omitted when there is no bias or it is frozen. */
  db?: Tensor;
  lora?: LoraGrads;
}

// dy is (N,out), x is (N,in) (the forward's input), w is (out,in); dx is (N,in) or null (not needed)
// backward of `y = x·wᵀ + b (+ scale·u·Bᵀ, u = x·Aᵀ)`:
//   dx (+)= dy·w (+ du·A with du = scale·dy·B);  dw += dyᵀ·x;  db += Σ dy;  dB += scale·dyᵀ·u;  dA += duᵀ·x
// Weight gradients always accumulate (the trainer zeroes them once per optimizer step);
// dx accumulates when `accumulateDx` (several linears read the same x).
export async function linearBackward(
  e: Engine, dy: Tensor, x: Tensor, w: Tensor, dx: Tensor | null, accumulateDx: boolean, grads: LinearGrads, lora?: LoraWeights,
): Promise<void> {
  const split = planLinear(e, x, w, dy, lora ? lora.A.shape[0] : 0);
  for (const block of split.rows) {
    const [dyb, xb, dxb] = [rowChunk(dy, block), rowChunk(x, block), dx && rowChunk(dx, block)];
    if (split.out) await backwardByOutputChunks(e, dyb, xb, w, dxb, accumulateDx, grads.dw, split.out);
    else {
      if (dxb) await matmul(e, dyb, w, dxb, { accumulate: accumulateDx });
      if (grads.dw) await matmul(e, dyb, xb, grads.dw, { transA: true, accumulate: true });
    }
    if (grads.db) await reduceCols(e, dyb, grads.db, { accumulate: true });
    if (lora && grads.lora) {
      const [u, du] = [rowChunk(lora.u, block), rowChunk(grads.lora.du, block)];
      const { dA, dB } = grads.lora;
      await matmul(e, dyb, u, dB, { transA: true, accumulate: true, alpha: lora.scale }); // dB += scale·dyᵀ·u
      await matmul(e, dyb, lora.B, du, { alpha: lora.scale }); // du = scale·dy·B
      await matmul(e, du, xb, dA, { transA: true, accumulate: true }); // dA += duᵀ·x
      if (dxb) await matmul(e, du, lora.A, dxb, { accumulate: true }); // dx += du·A
    }
  }
}
