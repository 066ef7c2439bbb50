// Timed trials that pick the attention variant per adapter and shape class, like tuneMatmul: each
// available variant runs the training pair (forward + backward) or a decode step on zero inputs of
// the real shape; the fastest is remembered (memory, and IndexedDB in a browser) for
// attentionClass(kind, HS, T), so the kernels pick it without a trial next time.
import type { Engine } from '../gpu/engine';
import type { Tensor } from '../gpu/tensor';
import { fill } from '../gpu/transfer';
import { KERNEL, type AttentionVariant, attentionBackward, attentionClass, attentionDecode, attentionForward, availableAttentionVariants } from './attention';
import { type TrialResult, loadRememberedVariants, rememberedVariant, runTrial } from './variant-cache';

/** An attention problem: training (B, T) or decode over a cache of Tmax = T positions. */
export interface AttentionShape {
  kind: 'train' | 'decode';
  B: number;
  T: number;
  NH: number;
  NKV: number;
  HS: number;
}

/** Zeroed pooled tensors of the given shapes, released by the returned function. */
function zeros(e: Engine, shapes: [number[], 'f32' | 'u32'][]): { ts: Tensor[]; release: () => void } {
  const ts = shapes.map(([s, dtype]) => e.pool.tensor(s, dtype));
  for (const t of ts) fill(e.gpu, t, 0);
  return { ts, release: () => ts.forEach((t) => e.pool.release(t)) };
}

/** Records one launch of `variant` on `s` with tensors `ts` (see `shapesOf`). */
async function launch(e: Engine, s: AttentionShape, ts: Tensor[], variant: AttentionVariant): Promise<void> {
  if (s.kind === 'decode') {
    const [q, kc, vc, pos, out] = ts;
    await attentionDecode(e, q, kc, vc, pos, out, { variant });
    return;
  }
  const [q, k, v, out, lse, dout, dq, dk, dv] = ts;
  await attentionForward(e, q, k, v, out, lse, { variant });
  await attentionBackward(e, dout, q, k, v, out, lse, dq, dk, dv, { variant });
}

function shapesOf(s: AttentionShape): [number[], 'f32' | 'u32'][] {
  const { B, T, NH, NKV, HS } = s;
  const f = (shape: number[]): [number[], 'f32'] => [shape, 'f32'];
  if (s.kind === 'decode') return [f([B, 1, NH, HS]), f([B, NKV, T, HS]), f([B, NKV, T, HS]), [[B], 'u32'], f([B, 1, NH, HS])];
  const qs = f([B, T, NH, HS]);
  const kvs = f([B, T, NKV, HS]);
  return [qs, kvs, kvs, qs, f([B, NH, T]), qs, qs, kvs, kvs];
}

/**
 * Times every available variant on each shape class not yet remembered for this adapter and
 * remembers the fastest. Run at startup, never inside a step. Returns the choice per class.
 */
export async function tuneAttention(
  e: Engine, shapes: readonly AttentionShape[], opts: { samples?: number; onTrial?: (cls: string, results: TrialResult[]) => void } = {},
): Promise<Map<string, AttentionVariant>> {
  await loadRememberedVariants(e);
  const chosen = new Map<string, AttentionVariant>();
  for (const s of shapes) {
    const cls = attentionClass(s.kind, s.HS, s.T);
    if (chosen.has(cls)) continue;
    const known = rememberedVariant(e, KERNEL, cls) as AttentionVariant | undefined;
    if (known && availableAttentionVariants(e).includes(known)) {
      chosen.set(cls, known);
      continue;
    }
    const { ts, release } = zeros(e, shapesOf(s));
    if (s.kind === 'decode') {
      // Every query attends to the whole cache, as the last token of a full context does.
      fill(e.gpu, ts[3], s.T - 1);
    }
    try {
      const candidates = availableAttentionVariants(e).map((variant) => ({ variant, record: () => launch(e, s, ts, variant) }));
      const results = await runTrial(e, KERNEL, cls, candidates, opts.samples ?? 2);
      opts.onTrial?.(cls, results);
      chosen.set(cls, results[0].variant as AttentionVariant);
    } finally {
      release();
    }
  }
  return chosen;
}
