// How a linear layer runs when its tensors exceed one storage binding (src/kernels/split.ts): the
// LM head of a real vocabulary has a weight (V, C) and logits (N, V) of hundreds of MB.
//   - rows: x, y, dy, dx (and LoRA's u, du) are taken a block of rows at a time, each block's rows
//     fitting one binding;
//   - output chunks: when w (out, in) itself does not fit, it is taken a chunk of output rows at a
//     time (a multiple of 64, so column offsets stay aligned). The chunk's columns of y / dy are not
//     contiguous, so they pass through a scratch block s (rows, chunk) and copy2d:
//        forward   s = x·w[v0:v1]ᵀ + b[v0:v1];  y[:, v0:v1] = s
//        backward  s = dy[:, v0:v1];  dx (+)= s·w[v0:v1];  dw[v0:v1] += sᵀ·x
// When everything fits, the plan is one block and no chunks: linear.ts then launches exactly the
// unsplit kernels.
import type { Engine } from '../gpu/engine';
import { type Tensor, numel, subview } from '../gpu/tensor';
import { copy2d } from '../kernels/elementwise';
import { matmul } from '../kernels/matmul';
import { scratch } from '../kernels/scratch';
import { type Chunk, chunkItems, elementChunk, rowAlignUnit, rowChunk } from '../kernels/split';

export interface LinearSplit {
  /** Blocks of rows of x, y, dy, dx (and u, du); one block when they fit. */
  rows: Chunk[];
  /** Chunks of output rows of w (and dw, b) when w does not fit one binding; null when it does. */
  out: Chunk[] | null;
}

// x is (N,in), w is (out,in), y is (N,out) (dy in the backward); rank is LoRA's r (0 without)
export function planLinear(e: Engine, x: Tensor, w: Tensor, y: Tensor, rank: number): LinearSplit {
  for (const [t, name] of [[x, 'x'], [w, 'w'], [y, 'y']] as const) {
    if (t.shape.length !== 2) throw new RangeError(`linear ${name} (${t.label ?? 'tensor'}): expected 2 dimensions, got [${t.shape}]`);
  }
  const [N, inDim] = x.shape;
  const outDim = w.shape[0];
  const widths = [inDim, outDim, ...(rank > 0 ? [rank] : [])].map((n) => n * 4);
  const rows = chunkItems(e, N, Math.max(...widths), `linear rows of ${x.label ?? 'x'} / ${y.label ?? 'y'}`, { unit: rowAlignUnit(e, widths) });
  const out = outDim * inDim * 4 > e.bindingLimit ? chunkItems(e, outDim, inDim * 4, `linear weight ${w.label ?? ''}`, { unit: 64 }) : null;
  return { rows, out };
}

/** Elements of the (R, C) matrix t from column `col` of row 0 to the end: a window copy2d can address with stride C. */
const fromColumn = (t: Tensor, col: number): Tensor => subview(t, col, [numel(t.shape) - col]);

// x is (n,in), w is (out,in), b is (out) or null, y is (n,out): y = x·wᵀ + b, one chunk of w's rows at a time
export async function forwardByOutputChunks(e: Engine, x: Tensor, w: Tensor, b: Tensor | null, y: Tensor, chunks: readonly Chunk[]): Promise<void> {
  const [n, outDim] = y.shape;
  for (const c of chunks) {
    const s = scratch(e, 'linear output chunk', [n, c.count]);
    await matmul(e, x, rowChunk(w, c), s, { transB: true, bias: b ? elementChunk(b, c) : undefined });
    await copy2d(e, s, fromColumn(y, c.start), { rows: n, cols: c.count, srcStride: c.count, dstStride: outDim });
  }
}

// dy is (n,out), x is (n,in), w is (out,in); dx is (n,in) or null, dw is (out,in) or undefined:
// dx (+)= dy·w (accumulating when accumulateDx) and dw += dyᵀ·x, one chunk of w's rows at a time
export async function backwardByOutputChunks(
  e: Engine, dy: Tensor, x: Tensor, w: Tensor, dx: Tensor | null, accumulateDx: boolean, dw: Tensor | undefined, chunks: readonly Chunk[],
): Promise<void> {
  const [n, outDim] = dy.shape;
  for (const [i, c] of chunks.entries()) {
    const s = scratch(e, 'linear output chunk', [n, c.count]);
    await copy2d(e, fromColumn(dy, c.start), s, { rows: n, cols: c.count, srcStride: outDim, dstStride: c.count });
    if (dx) await matmul(e, s, rowChunk(w, c), dx, { accumulate: accumulateDx || i > 0 });
    if (dw) await matmul(e, s, x, rowChunk(dw, c), { transA: true, accumulate: true });
  }
}
