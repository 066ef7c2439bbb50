import body from '../../shaders/sample.wgsl?raw';
import type { Engine } from '../gpu/engine';
import { type Tensor, expectDType, expectShape } from '../gpu/tensor';
import { type RowVariantOptions, rowLayout } from './row-reduce';
import { expectF32 } from './shape';

export interface SampleOptions extends RowVariantOptions {
  /** <= 0: greedy (argmax, first index on ties). Default 1. */
  temperature?: number;
  /** Keep the k most likely tokens (ties at the k-th value all kept); 0 (default) or >= V: off. */
  topK?: number;
  /** Keep the smallest most-likely set with probability >= topP (after top-k, HF order); >= 1 (default): off. */
  topP?: number;
  /** RNG key: u32 seed and step; the draw for row b and token v is a hash of (seed, step, rowBase + b, v). */
  seed?: number;
  step?: number;
  /** Row of the key for logits row 0 (default 0): rows r..r+B of a batch sampled by parts draw as the whole batch would. */
  rowBase?: number;
}

// logits is (B,V); tokens is (B) i32, logprob is (B) f32: the sampled token and its log-probability
// under softmax(logits / temperature) before truncation (under softmax(logits) when greedy).
// Nothing is read back.
export async function sample(e: Engine, logits: Tensor, tokens: Tensor, logprob: Tensor, opts: SampleOptions = {}): Promise<void> {
  if (logits.shape.length !== 2) throw new RangeError(`sample logits: expected (B,V), got [${logits.shape}]`);
  const [B, V] = logits.shape;
  expectDType(logits, 'f32', 'sample logits');
  expectShape(tokens, [B], 'sample tokens');
  expectDType(tokens, 'i32', 'sample tokens');
  expectF32(logprob, [B], 'sample logprob');
  const u32 = (x: number, name: string) => {
    if (!(Number.isInteger(x) && x >= 0 && x <= 0xffffffff)) throw new RangeError(`sample: ${name} must be an integer in [0, 2^32), got ${x}`);
    return x;
  };
  const layout = rowLayout(e, opts, 'sample', body, B, V >= 4096 ? 256 : 64);
  const pipeline = await e.pipelines.get({ label: `sample_${layout.variant}_wg${layout.WG}`, code: layout.code, constants: { WG: layout.WG } });
  const params = e.rec.params([
    ['u32', B], ['u32', V], ['f32', opts.temperature ?? 1], ['u32', u32(opts.topK ?? 0, 'topK')], ['f32', opts.topP ?? 1],
    ['u32', u32(opts.seed ?? 0, 'seed')], ['u32', u32(opts.step ?? 0, 'step')],
    ['u32', u32(opts.rowBase ?? 0, 'rowBase')], ['f32', NaN],
  ]);
  e.rec.dispatch(pipeline, [params, logits, tokens, logprob], layout.grid);
}
