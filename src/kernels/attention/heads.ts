// Where the heads of q, k, v (and their gradients) live. Attention and RoPE read and write heads
// in the model's own row layout, so a projection's output is used without a permute or a copy:
// element (b, t, h, d) of a Heads view is x[off + (b*T + t)*rowStride + col + h*HS + d].
//  - a separate projection: x is (B, T, H, HS) (or (B, T, H*HS)), col 0, rowStride H*HS;
//  - a fused qkv projection: x is (B, T, (NH + 2*NKV)*HS) and q, k, v are its column ranges
//    starting at 0, NH*HS and (NH + NKV)*HS (rowStride (NH + 2*NKV)*HS).
import { type Tensor, byteLength, numel } from '../../gpu/tensor';

export interface Heads {
  /** The tensor holding the rows; its byte offset is the binding offset (256-aligned). */
  readonly x: Tensor;
  readonly B: number;
  readonly T: number;
  readonly H: number;
  readonly HS: number;
  /** Element column of head 0's first element within a row. */
  readonly col: number;
  /** Elements from one row (b, t) to the next. */
  readonly rowStride: number;
}

/** A contiguous (B, T, H, HS) tensor as a Heads view. */
export function asHeads(x: Tensor, name: string): Heads {
  if (x.shape.length !== 4) throw new RangeError(`${name}: expected a (B, T, H, HS) tensor or a Heads view, got shape [${x.shape}]`);
  const [B, T, H, HS] = x.shape;
  return { x, B, T, H, HS, col: 0, rowStride: H * HS };
}

/** H heads of size HS starting at column `col` of the rows of x, which is (B, T, W). */
export function headsOf(x: Tensor, col: number, H: number, HS: number): Heads {
  if (x.shape.length !== 3) throw new RangeError(`headsOf: x must be (B, T, W), got shape [${x.shape}]`);
  const [B, T, W] = x.shape;
  if (!Number.isInteger(col) || col < 0 || col + H * HS > W) {
    throw new RangeError(`headsOf: ${H} heads of ${HS} from column ${col} do not fit in rows of width ${W}`);
  }
  return { x, B, T, H, HS, col, rowStride: W };
}

export function toHeads(v: Tensor | Heads, name: string): Heads {
  return 'rowStride' in v ? v : asHeads(v, name);
}

/** Throws a readable error unless the view has these dimensions (-1 for "any") and is f32. */
export function expectHeads(v: Heads, dims: { B: number; T: number; H: number; HS: number }, name: string): void {
  const got = [v.B, v.T, v.H, v.HS];
  const want = [dims.B, dims.T, dims.H, dims.HS];
  if (!want.every((d, i) => d === -1 || d === got[i])) {
    const fmt = (a: number[]) => `(B=${a[0]}, T=${a[1]}, H=${a[2]}, HS=${a[3]})`.replace(/-1/g, '*');
    throw new RangeError(`${name}: expected heads ${fmt(want)}, got ${fmt(got)}`);
  }
  if (v.x.dtype !== 'f32') throw new TypeError(`${name}: expected f32, got ${v.x.dtype}`);
  const last = v.col + ((v.B * v.T - 1) * v.rowStride + v.H * v.HS);
  if (v.B * v.T > 0 && last > numel(v.x.shape)) throw new RangeError(`${name}: the heads view reaches element ${last} of a tensor of ${numel(v.x.shape)}`);
}

/** True when two views are bound from overlapping bytes of one buffer. */
export function overlaps(a: Tensor, b: Tensor): boolean {
  return a.buffer === b.buffer && a.offset < b.offset + byteLength(b) && b.offset < a.offset + byteLength(a);
}
