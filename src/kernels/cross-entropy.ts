import body from '../../shaders/cross_entropy.wgsl?raw';
import type { Engine } from '../gpu/engine';
import { type Tensor, expectDType, expectShape, reshape } from '../gpu/tensor';
import { type RowVariantOptions, rowLayout } from './row-reduce';
import { expectF32, rowsOf } from './shape';
import { chunkItems, rowChunk } from './split';

/** Where the gradient goes: nowhere (evaluation), a separate (N,V) tensor, or over the logits. */
type GradMode = 'none' | 'separate' | 'inplace';

// The store_grad function the kernel calls, per mode (appended to cross_entropy.wgsl).
const STORE_GRAD: Record<GradMode, string> = {
  none: 'fn store_grad(i: u32, g: f32) {}',
  separate: '@group(0) @binding(7) var<storage, read_write> dlogits: array<f32>;\nfn store_grad(i: u32, g: f32) { dlogits[i] = g; }',
  inplace: 'fn store_grad(i: u32, g: f32) { logits[i] = g; }',
};

export interface CrossEntropyOutputs {
  /** (N): weight * (logsumexp - logit[target]); 0 where weight is 0. */
  loss: Tensor;
  /** (N): log p(target) under softmax(logits), whatever the weight. */
  logprob: Tensor;
  /** (N): entropy of softmax(logits), whatever the weight. */
  entropy: Tensor;
  /**
   * (N,V): weight * dscale * (softmax - onehot(target)); 'inplace' writes it over the logits
   * (saves an (N,V) buffer); absent for evaluation.
   */
  dlogits?: Tensor | 'inplace';
}

export interface CrossEntropyOptions extends RowVariantOptions {
  /** Multiplies dlogits (default 1), e.g. 1 / (number of unmasked tokens) for a mean loss. */
  dscale?: number;
}

// logits is (N,V) (leading dims such as (B,T) flatten into N), targets is (N) i32, weights is (N) f32
// (0 = masked; per-token RL advantages may be negative); outputs: loss, logprob, entropy (N), dlogits (N,V).
// A target outside [0,V) gives NaN loss and logprob unless its weight is 0.
// Logits larger than one binding (N x V: 2048 tokens of a 151936 vocabulary are 1.2 GB) are bound a
// block of whole rows at a time, one dispatch each; the per-row tensors are bound whole.
export async function crossEntropy(
  e: Engine, logits: Tensor, targets: Tensor, weights: Tensor, out: CrossEntropyOutputs, opts: CrossEntropyOptions = {},
): Promise<void> {
  const [N, V] = rowsOf(logits, 'crossEntropy logits');
  expectShape(targets, [N], 'crossEntropy targets');
  expectDType(targets, 'i32', 'crossEntropy targets');
  expectF32(weights, [N], 'crossEntropy weights');
  expectF32(out.loss, [N], 'crossEntropy loss');
  expectF32(out.logprob, [N], 'crossEntropy logprob');
  expectF32(out.entropy, [N], 'crossEntropy entropy');
  const mode: GradMode = out.dlogits === undefined ? 'none' : out.dlogits === 'inplace' ? 'inplace' : 'separate';
  const dlogits = out.dlogits !== undefined && out.dlogits !== 'inplace' ? out.dlogits : null;
  if (dlogits) expectF32(dlogits, logits.shape, 'crossEntropy dlogits');
  const layout = (rows: number) => rowLayout(e, opts, 'crossEntropy', body, rows, V >= 4096 ? 256 : 64);
  const { variant, WG, code } = layout(N);
  const pipeline = await e.pipelines.get({
    label: `cross_entropy_${mode}_${variant}_wg${WG}`,
    code: `${code}\n${STORE_GRAD[mode]}\n`,
    constants: { WG, GRAD: mode === 'none' ? 0 : 1 },
  });
  const rows = (t: Tensor) => reshape(t, [N, V]);
  for (const block of chunkItems(e, N, V * 4, 'crossEntropy logits (one block of rows)')) {
    const params = e.rec.params([['u32', block.count], ['u32', V], ['f32', opts.dscale ?? 1], ['f32', NaN], ['u32', block.start]]);
    const tensors = [rowChunk(rows(logits), block), targets, weights, out.loss, out.logprob, out.entropy];
    if (dlogits) tensors.push(rowChunk(rows(dlogits), block));
    e.rec.dispatch(pipeline, [params, ...tensors], layout(block.count).grid);
  }
}
