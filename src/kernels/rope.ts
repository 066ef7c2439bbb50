// Rotary position embedding (Llama / Hugging Face rotate-half convention) on q or k heads, in the
// same Heads layout attention reads (src/kernels/attention/heads.ts), in place or into `out`.
// For pair i < HS/2 of a head at position t: angle = t * theta^(-2i/HS),
//   y[i] = x[i] cos - x[i + HS/2] sin,   y[i + HS/2] = x[i + HS/2] cos + x[i] sin.
// cos and sin come from a table computed in float64 on the CPU (exact angles even at long
// positions, where float32 angle arithmetic loses ~1e-4), cached per engine, theta and HS and
// grown when a longer one is needed.
import code from '../../shaders/rope.wgsl?raw';
import type { Engine } from '../gpu/engine';
import { type Tensor, expectDType, expectShape } from '../gpu/tensor';
import { createTensor } from '../gpu/transfer';
import { type Heads, expectHeads, overlaps, toHeads } from './attention/heads';
import { grid1d } from './grid';

export interface RopeOptions {
  /** RoPE base (rope_theta in HF configs). */
  theta: number;
  /**
   * Positions for a KV cache: row t of sequence b is at position base[b] + t, base is (B) u32.
   * Every position must be below `limit` (e.g. the cache length; the table is built that long and
   * positions past it are clamped). Default: row t is at position t.
   */
  pos?: { base: Tensor; limit: number };
  /** Write here instead of in place: heads of the same (B, T, H, HS). */
  out?: Tensor | Heads;
}

/** cos/sin of pos * theta^(-2i/HS) for pos < rows, as (rows, HS/2, 2) interleaved, computed in float64. */
function ropeTable(theta: number, HS: number, rows: number): Float32Array {
  const half = HS / 2;
  const table = new Float32Array(rows * half * 2);
  for (let t = 0; t < rows; t++) {
    for (let i = 0; i < half; i++) {
      const angle = t * Math.pow(theta, (-2 * i) / HS);
      table[(t * half + i) * 2] = Math.cos(angle);
      table[(t * half + i) * 2 + 1] = Math.sin(angle);
    }
  }
  return table;
}

const tables = new WeakMap<Engine, Map<string, { t: Tensor; rows: number }>>();

/** The engine's table for (theta, HS) with at least `rows` positions (rebuilt at twice the size when short). */
function tableFor(e: Engine, theta: number, HS: number, rows: number): { t: Tensor; rows: number } {
  let byKey = tables.get(e);
  if (!byKey) tables.set(e, (byKey = new Map()));
  const key = `${theta}/${HS}`;
  const have = byKey.get(key);
  if (have && have.rows >= rows) return have;
  const n = Math.max(rows, 2 * (have?.rows ?? 0), 64);
  // A shorter table is dropped, not destroyed: work already recorded may still read it.
  const made = { t: createTensor(e.gpu, ropeTable(theta, HS, n), [n, HS / 2, 2], `rope table theta=${theta} HS=${HS}`), rows: n };
  byKey.set(key, made);
  return made;
}

async function rope(e: Engine, xIn: Tensor | Heads, opts: RopeOptions, sign: 1 | -1, K: string): Promise<void> {
  const x = toHeads(xIn, `${K} x`);
  const { B, T, H, HS } = x;
  expectHeads(x, { B, T, H, HS }, `${K} x`);
  if (HS % 2 !== 0) throw new RangeError(`${K}: head size ${HS} is odd; rotate-half RoPE needs an even head size`);
  if (!(opts.theta > 0)) throw new RangeError(`${K}: theta must be positive, got ${opts.theta}`);
  const out = opts.out === undefined ? null : toHeads(opts.out, `${K} out`);
  if (out) {
    expectHeads(out, { B, T, H, HS }, `${K} out`);
    if (overlaps(out.x, x.x)) throw new RangeError(`${K}: out overlaps x; omit out to rotate in place`);
  }
  if (opts.pos) {
    expectShape(opts.pos.base, [B], `${K} pos.base`);
    expectDType(opts.pos.base, 'u32', `${K} pos.base`);
    if (!(opts.pos.limit >= 1)) throw new RangeError(`${K}: pos.limit must be at least 1, got ${opts.pos.limit}`);
  }
  const n = B * T * H * (HS / 2);
  if (n === 0) return;
  const table = tableFor(e, opts.theta, HS, opts.pos ? opts.pos.limit : T);
  const WG = 64;
  const pipeline = await e.pipelines.get({ label: `rope_${out ? 'out' : 'inplace'}_wg${WG}`, code, entryPoint: out ? 'outofplace' : 'inplace', constants: { WG } });
  const params = e.rec.params([
    ['u32', n], ['u32', T], ['u32', H], ['u32', HS / 2],
    ['u32', x.col], ['u32', x.rowStride], ['u32', out?.col ?? 0], ['u32', out?.rowStride ?? 0],
    ['u32', table.rows], ['u32', opts.pos ? 1 : 0], ['f32', sign],
  ]);
  // Without positions the table stands in for the unused pos binding.
  const bindings = [x.x, table.t, opts.pos?.base ?? table.t, params];
  e.rec.dispatch(pipeline, out ? [...bindings, out.x] : bindings, grid1d(Math.ceil(n / WG), e.gpu.limits.maxComputeWorkgroupsPerDimension));
}

// x is (B,T,H,HS) heads, rotated in place (or into opts.out, (B,T,H,HS) heads):
// y[i] = x[i] cos - x[i+HS/2] sin, y[i+HS/2] = x[i+HS/2] cos + x[i] sin at angle pos * theta^(-2i/HS)
export function ropeForward(e: Engine, x: Tensor | Heads, opts: RopeOptions): Promise<void> {
  return rope(e, x, opts, 1, 'ropeForward');
}

// dx is (B,T,H,HS) heads holding d(rotated) on entry and d(unrotated) on exit (or into opts.out):
// the rotation is orthogonal, so the backward rotates by -angle.
export function ropeBackward(e: Engine, dx: Tensor | Heads, opts: RopeOptions): Promise<void> {
  return rope(e, dx, opts, -1, 'ropeBackward');
}
