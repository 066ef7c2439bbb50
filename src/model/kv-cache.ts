// The KV cache of generation: per layer, the post-RoPE keys and values of every position seen so
// far, kc and vc (B, NKV, Tmax, HS), allocated once for (B, Tmax). Positions are per sequence:
// sequence b's token at position t lives at kc[b, :, t, :]. A sequence only ever attends
// 0..pos[b] (attentionDecode), so rows past its length (prompt padding) are never read, and the
// decode step overwrites them as the sequence grows.
import type { Engine } from '../gpu/engine';
import type { Tensor } from '../gpu/tensor';
import { attentionDecode, kvCacheWrite } from '../kernels/attention';
import type { Heads } from '../kernels/attention/heads';
import type { ModelConfig } from './config';

export interface LayerCache {
  /** (B, NKV, Tmax, HS) */
  k: Tensor;
  v: Tensor;
}

export class KvCache {
  readonly layers: LayerCache[];

  constructor(
    private readonly e: Engine,
    cfg: ModelConfig,
    readonly B: number,
    readonly Tmax: number,
  ) {
    const shape = [B, cfg.NKV, Tmax, cfg.HS];
    this.layers = Array.from({ length: cfg.L }, (_, l) => ({
      k: e.pool.tensor(shape, 'f32', `kv cache ${l} k`),
      v: e.pool.tensor(shape, 'f32', `kv cache ${l} v`),
    }));
  }

  // k and v are (Bw,T,NKV,HS) heads of new rows (T = 1 for a decode step, the right-padded prompts when
  // prefilling), pos is (Bw) u32: layer l's kc[row + b, :, pos[b] + t] = k[b, t] (vc likewise);
  // row > 0 when the prompts are prefilled in parts.
  async write(l: number, k: Tensor | Heads, v: Tensor | Heads, pos: Tensor, row = 0): Promise<void> {
    await kvCacheWrite(this.e, k, v, this.layers[l].k, this.layers[l].v, pos, row);
  }

  // q is (B,1,NH,HS) heads of the new tokens (their k, v already written), pos (B) u32, out (B,1,NH,HS) heads:
  // out[b] = causal attention of q[b] over layer l's cache positions 0..pos[b]
  async attend(l: number, q: Tensor | Heads, pos: Tensor, out: Tensor | Heads): Promise<void> {
    await attentionDecode(this.e, q, this.layers[l].k, this.layers[l].v, pos, out);
  }

  release(): void {
    for (const c of this.layers) {
      this.e.pool.release(c.k);
      this.e.pool.release(c.v);
    }
  }
}
