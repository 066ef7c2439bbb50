// Random initialisation for a model trained from scratch (GPT-2 / nanoGPT scheme): weights
// N(0, 0.02), residual output projections scaled by 1/sqrt(2L), biases 0, norm weights 1.
import { Rng } from '../train/rng';
import type { ParamLayout } from './param-layout';

/** Standard normal by Box–Muller from the seeded generator. */
function gaussian(rng: Rng): number {
  const u = Math.max(rng.float(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.float());
}

export function initParams(layout: ParamLayout, seed: number, std = 0.02): Float32Array {
  const rng = Rng.seeded(seed);
  const p = new Float32Array(layout.totalElements);
  const residualStd = std / Math.sqrt(2 * layout.config.L);
  for (const t of layout.tensors) {
    const view = p.subarray(t.offset, t.offset + t.size);
    if (/\.(ln1|ln2)\.w$|^lnf\.w$/.test(t.name)) view.fill(1);
    else if (t.shape.length === 1) view.fill(0);
    else {
      const s = /\.(attn\.o|mlp\.down|mlp\.proj)\.w$/.test(t.name) ? residualStd : std;
      for (let i = 0; i < t.size; i++) view[i] = gaussian(rng) * s;
    }
  }
  return p;
}

/** LoRA starts as a no-op (PEFT): A ~ N(0, 1/r)·small, B = 0, so training starts from the base model. */
export function initLora(layout: ParamLayout, seed: number): Float32Array {
  const ll = layout.lora;
  if (!ll) throw new Error('initLora: the layout has no LoRA adapters');
  const rng = Rng.seeded(seed);
  const p = new Float32Array(ll.totalElements);
  for (const ad of ll.adapters) {
    const a = p.subarray(ad.A.offset, ad.A.offset + ad.A.size);
    const bound = 1 / Math.sqrt(ad.inDim); // kaiming-uniform-like bound, as PEFT's default init
    for (let i = 0; i < a.length; i++) a[i] = (rng.float() * 2 - 1) * bound;
  }
  return p;
}
