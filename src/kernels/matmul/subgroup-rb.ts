// WGSL generator for the `subgroup-rb` matmul: the design for CPU adapters with 4-wide subgroups
// (SwiftShader), where every storage load with a computed index costs a scalarised gather and the
// cost of a matmul is loads per multiply-add.
//
// A subgroup (4 lanes) owns an R x 4J tile of C; lane l owns columns n0 + 4j + l, so one subgroup
// load of B fetches 4 contiguous floats. A is loaded once per 4 k (lane l reads A[m, k + l], or
// for transposed A the 4 lanes read 4 rows) and shared with subgroupBroadcast at constant lanes.
// The R*J accumulators are separate `var`s, the k loop is unrolled by 4 with constant indices and
// each accumulator is updated once per 4 k (one chained expression), which halves the masked
// stores SwiftShader emits for variables written in a loop. Per 4 k a subgroup issues
// R (A) + 4J (B) loads for 16RJ multiply-adds; see DESIGN.md and the benchmark for the numbers.
// Assumes subgroups of exactly 4 lanes made of consecutive invocations (the launcher checks the size).
import { type Layout, aIndex, bIndex, header, kAt, kLoop, kMasked, sliceSetup } from './common';

export interface SubgroupRbSpec extends Layout {
  /** Rows of C per subgroup (a multiple of 4). */
  R: number;
  /** Columns of C per lane (the subgroup covers 4J). */
  J: number;
  /** Subgroups per workgroup along M and along N. */
  SGR: number;
  SGC: number;
}

/** Rows and columns of C covered by one workgroup. */
export const subgroupRbTile = (s: SubgroupRbSpec): { rows: number; cols: number } => ({ rows: s.R * s.SGR, cols: 4 * s.J * s.SGC });

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

function step(s: SubgroupRbSpec, guarded: boolean): string[] {
  const { R, J } = s;
  const out: string[] = [];
  // A values: x(r, i) is A[m0 + r, k + i] in every lane.
  let x: (r: number, i: number) => string;
  if (!s.transA) {
    for (const r of range(R)) out.push(`  let a${r} = ${kMasked(`A[ar${r} + ${kAt('lane', guarded)}]`, 'lane', guarded)};`);
    x = (r, i) => `subgroupBroadcast(a${r}, ${i}u)`;
  } else {
    for (const i of range(4)) {
      for (const q of range(R / 4)) out.push(`  let t${i}_${q} = ${kMasked(`A[${aIndex(s, 'aBase', `am${q}`, kAt(i, guarded))}]`, i, guarded)};`);
    }
    x = (r, i) => `subgroupBroadcast(t${i}_${r >> 2}, ${r & 3}u)`;
  }
  for (const i of range(4)) for (const j of range(J)) out.push(`  let b${i}_${j} = B[${bIndex(s, 'bBase', kAt(i, guarded), `col${j}`)}];`);
  for (const r of range(R)) {
    for (const i of range(4)) out.push(`  let x${r}_${i} = ${x(r, i)};`);
    for (const j of range(J)) {
      let acc = `c${r}_${j}`;
      for (const i of range(4)) acc = `fma(x${r}_${i}, b${i}_${j}, ${acc})`;
      out.push(`  c${r}_${j} = ${acc};`);
    }
  }
  return out;
}

export function subgroupRbWgsl(s: SubgroupRbSpec): string {
  const { R, J, SGR, SGC } = s;
  if (R % 4 !== 0) throw new RangeError(`subgroup-rb: R=${R} must be a multiple of 4`);
  const lines = [
    'enable subgroups;',
    // A subgroup whose whole tile is outside C leaves early; its 4 lanes always leave together.
    'diagnostic(off, subgroup_uniformity);',
    header(),
    `@compute @workgroup_size(${4 * SGR * SGC})`,
    'fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32, @builtin(subgroup_invocation_id) lane: u32) {',
    '  let sg = lid / 4u;',
    `  let m0 = (wid.y * ${SGR}u + sg / ${SGC}u) * ${R}u;`,
    `  let n0 = (wid.x * ${SGC}u + sg % ${SGC}u) * ${4 * J}u;`,
    '  if (m0 >= p.M || n0 >= p.N) { return; }',
    ...sliceSetup(),
  ];
  // Clamped row / column indices, fixed for the whole k loop.
  if (!s.transA) for (const r of range(R)) lines.push(`  let ar${r} = ${aIndex(s, 'aBase', `min(m0 + ${r}u, mLast)`, '0u')};`);
  else for (const q of range(R / 4)) lines.push(`  let am${q} = min(m0 + ${4 * q}u + lane, mLast);`);
  for (const j of range(J)) lines.push(`  let col${j} = min(n0 + ${4 * j}u + lane, nLast);`);
  for (const r of range(R)) for (const j of range(J)) lines.push(`  var c${r}_${j} = 0.0;`);
  lines.push(...kLoop((guarded) => step(s, guarded)));
  // One copy of the epilogue: the accumulators go through a private array to a loop of stores.
  lines.push(`  var acc: array<f32, ${R * J}>;`);
  for (const r of range(R)) for (const j of range(J)) lines.push(`  acc[${r * J + j}] = c${r}_${j};`);
  lines.push(`  for (var t = 0u; t < ${R * J}u; t++) {`, `    store_c(z, m0 + t / ${J}u, n0 + 4u * (t % ${J}u) + lane, acc[t]);`, '  }');
  lines.push('}');
  return lines.join('\n');
}
