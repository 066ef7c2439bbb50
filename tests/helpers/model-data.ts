// Random parameters and batches for model tests, shared by the GPU and the float64 reference.
import type { ParamLayout } from '../../src/model/param-layout';
import type { Batch } from '../../src/model/transformer';
import { randInt, rng } from './random';

/** f32-representable random parameters: norm weights near 1, everything else small. */
export function randomParams(layout: ParamLayout, seed: number, scale = 0.2): Float32Array {
  const r = rng(seed);
  const p = new Float32Array(layout.totalElements);
  for (const t of layout.tensors) {
    const isNormW = /(ln1|ln2|lnf)\.w$/.test(t.name);
    for (let i = 0; i < t.size; i++) p[t.offset + i] = isNormW ? 1 + (r() - 0.5) * 0.4 : (r() * 2 - 1) * scale;
  }
  return p;
}

export function randomLora(layout: ParamLayout, seed: number, scale = 0.2): Float32Array {
  const r = rng(seed);
  const ll = layout.lora!;
  const p = new Float32Array(ll.totalElements);
  for (const t of ll.tensors) for (let i = 0; i < t.size; i++) p[t.offset + i] = (r() * 2 - 1) * scale;
  return p;
}

/** A batch with some masked tokens and varied weights (never all masked). */
export function randomBatch(B: number, T: number, V: number, seed: number, opts: { negativeWeights?: boolean } = {}): Batch {
  const r = rng(seed);
  const N = B * T;
  const tokens = new Int32Array(N).map(() => randInt(r, 0, V - 1));
  const targets = new Int32Array(N).map(() => randInt(r, 0, V - 1));
  const weights = new Float32Array(N).map((_, i) => (i === 0 ? 1 : r() < 0.25 ? 0 : opts.negativeWeights ? r() * 2 - 0.7 : 1));
  return { tokens, targets, weights };
}
