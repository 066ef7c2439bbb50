// A linear layer on the GPU, forward and backward side by side, with an optional LoRA adapter.
// HF convention: w is (out, in) and y = x·wᵀ + b. LoRA adds scale·(x·Aᵀ)·Bᵀ with A (r, in), B (out, r).
import type { Engine } from '../gpu/engine';
import type { Tensor } from '../gpu/tensor';
import { matmul } from '../kernels/matmul';
import { reduceCols } from '../kernels/reduce';

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
  await matmul(e, x, w, y, { transB: true, bias: b ?? undefined });
  if (lora) {
    await matmul(e, x, lora.A, lora.u, { transB: true }); // u = x·Aᵀ
    await matmul(e, lora.u, lora.B, y, { transB: true, accumulate: true, alpha: lora.scale }); // y += scale·u·Bᵀ
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
  if (dx) await matmul(e, dy, w, dx, { accumulate: accumulateDx });
  if (grads.dw) await matmul(e, dy, x, grads.dw, { transA: true, accumulate: true });
  if (grads.db) await reduceCols(e, dy, grads.db, { accumulate: true });
  if (lora && grads.lora) {
    const g = grads.lora;
    await matmul(e, dy, lora.u, g.dB, { transA: true, accumulate: true, alpha: lora.scale }); // dB += scale·dyᵀ·u
    await matmul(e, dy, lora.B, g.du, { alpha: lora.scale }); // du = scale·dy·B
    await matmul(e, g.du, x, g.dA, { transA: true, accumulate: true }); // dA += duᵀ·x
    if (dx) await matmul(e, g.du, lora.A, dx, { accumulate: true }); // dx += du·A
  }
}
