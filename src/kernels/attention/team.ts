// Code-generation helpers for the register attention kernels (the SwiftShader variants).
//
// A "team" computes a few rows of attention together. With `lanes = 4` the team is one subgroup
// of 4 invocations (one workgroup): a row vector of HS values is spread over the lanes, lane l
// holding elements 4m + l in variables named `name_m` (HS/4 per lane), dot products end in a
// subgroupAdd, and 4 scores (one per key) are packed into one variable, lane l holding key 4v + l,
// so one exp2 serves 4 keys. With `lanes = 1` the team is a single invocation (no subgroup
// operations, no workgroup memory): each invocation holds whole rows and one score per variable.
// Inside one block of keys (or rows) the generated code is unrolled with constant indices, so every
// value lives in a private variable and the only memory traffic is the storage loads of rows.

export type Lanes = 1 | 4;

/** Rows held in a private array: the lines that fill it, and the lines that read row i back. */
export interface CachedRows {
  fill: string[];
  read: (i: number) => string[];
}

/** Score of a masked key: exp2 of it minus any real maximum is 0. */
export const NEG = '-3.0e38';

export class Team {
  constructor(
    readonly lanes: Lanes,
    readonly HS: number,
  ) {
    if (HS % lanes !== 0) throw new RangeError(`head size ${HS} is not a multiple of ${lanes}`);
  }

  /** Row elements held by each lane. */
  get D(): number {
    return this.HS / this.lanes;
  }

  /** `enable subgroups;` and the lane builtin when the team is a subgroup. */
  get header(): string {
    return this.lanes === 4 ? 'enable subgroups;\n' : '';
  }

  /** The entry point's lane parameter (subgroup lane id), or '' for one-invocation teams. */
  get laneParam(): string {
    return this.lanes === 4 ? ', @builtin(subgroup_invocation_id) l: u32' : '';
  }

  /** Offset, relative to a row's start, of element chunk m held by this lane. */
  at(m: number): string {
    return this.lanes === 4 ? `${4 * m}u + l` : `${m}u`;
  }

  /** Names name_0 .. name_{D-1} of a row vector held in registers. */
  row(name: string): string[] {
    return Array.from({ length: this.D }, (_, m) => `${name}_${m}`);
  }

  /** Sum over the team of a per-lane expression. */
  sum(expr: string): string {
    return this.lanes === 4 ? `subgroupAdd(${expr})` : expr;
  }

  /** Max over the team of a per-lane expression. */
  max(expr: string): string {
    return this.lanes === 4 ? `subgroupMax(${expr})` : expr;
  }

  /** Per-lane dot product of two register rows, written as two interleaved chains. */
  dot(a: string[], b: string[]): string {
    const terms = a.map((x, i) => `${x} * ${b[i]}`);
    if (terms.length < 4) return terms.join(' + ');
    const even = terms.filter((_, i) => i % 2 === 0).join(' + ');
    const odd = terms.filter((_, i) => i % 2 === 1).join(' + ');
    return `(${even}) + (${odd})`;
  }

  /** Packed score variables for `n` keys. */
  slots(n: number): number {
    return Math.ceil(n / this.lanes);
  }

  /** The packed variable and the lane that hold key c of a group. */
  slotOf(c: number): { v: number; lane: number } {
    return { v: Math.floor(c / this.lanes), lane: c % this.lanes };
  }

  /** Key offset (relative to the group's first key) held by this lane in packed variable v. */
  keyOf(v: number): string {
    return this.lanes === 4 ? `${4 * v}u + l` : `${v}u`;
  }

  /** Packs up to `lanes` team-uniform scores into one variable, lane l taking xs[l] (lanes past the end repeat the last). */
  pack(xs: string[]): string {
    return xs.slice(1).reduce((a, x, i) => `select(${a}, ${x}, l == ${i + 1}u)`, xs[0]);
  }

  /**
   * Rows loaded once, before a loop, into the private array `arr`, and read back inside it at
   * constant indices: `fill` declares and fills the array, `read(i)` declares row i's `name_m`
   * values. A reload from storage inside the loop costs a per-lane gather on SwiftShader; a
   * constant-index read of a private array is one vector load, as long as the array stays in
   * memory: it is padded past spirv-opt's scalar-replacement limit (100 elements), which would
   * otherwise turn it into values live across the loop (and SwiftShader's compile time explodes).
   */
  cacheRows(arr: string, rows: { name: string; load: (m: number) => string }[]): CachedRows {
    const D = this.D;
    const fill = [`var ${arr}: array<f32, ${Math.max(128, rows.length * D)}>;`];
    rows.forEach((r, i) => this.row(r.name).forEach((_, m) => fill.push(`${arr}[${i * D + m}] = ${r.load(m)};`)));
    const read = (i: number) => this.row(rows[i].name).map((x, m) => `let ${x} = ${arr}[${i * D + m}];`);
    return { fill, read };
  }

  /** The value of packed variable `v` held by `lane`, in every lane. */
  bcast(v: string, lane: number): string {
    return this.lanes === 4 ? `subgroupBroadcast(${v}, ${lane}u)` : v;
  }
}

/**
 * The entry point of a team kernel: one team per task, task = workgroup (lanes = 4) or
 * invocation (lanes = 1, WG per workgroup) over a grid folded by grid1d; `body` runs per task.
 */
export function teamEntry(t: Team, WG: number, body: string[]): string {
  const wg = t.lanes === 4 ? 4 : WG;
  const task = t.lanes === 4 ? 'wid.x + wid.y * nwg.x' : `(wid.x + wid.y * nwg.x) * ${wg}u + lid`;
  return `@compute @workgroup_size(${wg})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32${t.laneParam}) {
  let task = ${task};
  if (task >= p.ntask) { return; }
${indent(2, body)}
}
`;
}

/** Emits `lines` indented by `n` spaces. */
export function indent(n: number, lines: string[]): string {
  const pad = ' '.repeat(n);
  return lines
    .flatMap((s) => s.split('\n'))
    .map((s) => pad + s)
    .join('\n');
}
