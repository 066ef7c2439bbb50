// WGSL generator for the `subgroup-rb` matmul: the design for CPU adapters with 4-wide subgroups
// (SwiftShader), where every storage load with a computed index costs a scalarised gather and the
// cost of a matmul is loads per multiply-add.
//
// A subgroup (4 lanes) owns an R x 4J tile of C; lane l owns columns n0 + 4j + l, so one subgroup
// load of B fetches 4 contiguous floats. A is loaded once per 4 k (lane l reads A[m, k + l], or
// for transposed A the 4 lanes read 4 rows) and shared with subgroupBroadcast at constant lanes.
// The R*J accumulators are separate `var`s; the main k loop steps KU k at a time with constant
// indices and updates each accumulator once per step (one chained expression), which cuts the
// masked stores SwiftShader emits for variables written in a loop. A one-k loop finishes the
// slice's last K % KU. Per KU k a subgroup issues R*KU/4 (A) + KU*J (B) loads for 4*R*J*KU
// multiply-adds; see DESIGN.md and bench/matmul-ceiling for the numbers.
// Assumes subgroups of exactly 4 lanes made of consecutive invocations (the launcher checks the size).
import { type Layout, aIndex, bIndex, header, sliceSetup } from './common';

export interface SubgroupRbSpec extends Layout {
  /** Rows of C per subgroup (a multiple of 4). */
  R: number;
  /** Columns of C per lane (the subgroup covers 4J). */
  J: number;
  /** Subgroups per workgroup along M and along N. */
  SGR: number;
  SGC: number;
  /** k per step of the main loop (a multiple of 4): each accumulator is updated once per step. */
  KU: number;
}

/** Rows and columns of C covered by one workgroup. */
export const subgroupRbTile = (s: SubgroupRbSpec): { rows: number; cols: number } => ({ rows: s.R * s.SGR, cols: 4 * s.J * s.SGC });

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

/** One step over k .. k + KU - 1 (all inside the slice): loads, broadcasts and one fma chain per accumulator. */
function step(s: SubgroupRbSpec): string[] {
  const { R, J, KU } = s;
  const out: string[] = [];
  // A values: x(r, i) is A[m0 + r, k + i] in every lane; quad q covers k + 4q .. k + 4q + 3.
  let x: (r: number, i: number) => string;
  if (!s.transA) {
    for (const q of range(KU / 4)) for (const r of range(R)) out.push(`  let a${r}_${q} = A[ar${r} + k + ${4 * q}u + lane];`);
    x = (r, i) => `subgroupBroadcast(a${r}_${i >> 2}, ${i & 3}u)`;
  } else {
    for (const i of range(KU)) for (const q of range(R / 4)) out.push(`  let t${i}_${q} = A[${aIndex(s, 'aBase', `am${q}`, `k + ${i}u`)}];`);
    x = (r, i) => `subgroupBroadcast(t${i}_${r >> 2}, ${r & 3}u)`;
  }
  for (const i of range(KU)) for (const j of range(J)) out.push(`  let b${i}_${j} = B[${bIndex(s, 'bBase', `k + ${i}u`, `col${j}`)}];`);
  for (const r of range(R)) {
    for (const i of range(KU)) out.push(`  let x${r}_${i} = ${x(r, i)};`);
    for (const j of range(J)) {
      let acc = `c${r}_${j}`;
      for (const i of range(KU)) acc = `fma(x${r}_${i}, b${i}_${j}, ${acc})`;
      out.push(`  c${r}_${j} = ${acc};`);
    }
  }
  return out;
}

/** One k (the slice's last K % KU): every lane loads the same A values, no broadcasts. */
function single(s: SubgroupRbSpec): string[] {
  const { R, J } = s;
  const out: string[] = [];
  const row = (r: number): string => (s.transA ? aIndex(s, 'aBase', `min(m0 + ${r}u, mLast)`, 'k') : `ar${r} + k`);
  for (const r of range(R)) out.push(`  let a${r} = A[${row(r)}];`);
  for (const j of range(J)) out.push(`  let b${j} = B[${bIndex(s, 'bBase', 'k', `col${j}`)}];`);
  for (const r of range(R)) for (const j of range(J)) out.push(`  c${r}_${j} = fma(a${r}, b${j}, c${r}_${j});`);
  return out;
}

export function subgroupRbWgsl(s: SubgroupRbSpec): string {
  const { R, J, SGR, SGC } = s;
  if (R % 4 !== 0) throw new RangeError(`subgroup-rb: R=${R} must be a multiple of 4`);
  if (s.KU % 4 !== 0) throw new RangeError(`subgroup-rb: KU=${s.KU} must be a multiple of 4`);
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
  const block = (cond: string, body: string[], inc: string) => ['  loop {', `    if (${cond}) { break; }`, ...body.map((l) => `  ${l}`), `    k += ${inc};`, '  }'];
  lines.push('  var k = k0;', ...block(`k + ${s.KU}u > k1`, step(s), `${s.KU}u`), ...block('k >= k1', single(s), '1u'));
  // One copy of the epilogue: the accumulators go through a private array to a loop of stores.
  lines.push(`  var acc: array<f32, ${R * J}>;`);
  for (const r of range(R)) for (const j of range(J)) lines.push(`  acc[${r * J + j}] = c${r}_${j};`);
  lines.push(`  for (var t = 0u; t < ${R * J}u; t++) {`, `    store_c(z, m0 + t / ${J}u, n0 + 4u * (t % ${J}u) + lane, acc[t]);`, '  }');
  lines.push('}');
  return lines.join('\n');
}
