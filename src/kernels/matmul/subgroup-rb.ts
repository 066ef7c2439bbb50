// WGSL generator for the `subgroup-rb` matmul: the design for CPU adapters with 4-wide subgroups
// (SwiftShader), where every storage load with a computed index costs a scalarised gather and the
// cost of a matmul is loads per multiply-add.
//
// A subgroup (4 lanes) owns an R x 4J tile of C; lane l owns columns n0 + 4j + l, so one subgroup
// load of B fetches 4 columns. A is loaded once per 4 k (lane l reads A[m, k + l]) and
// shared with subgroupBroadcast at constant lanes. The R*J accumulators are separate `var`s; the
// main k loop steps KU k at a time with constant indices and updates each accumulator once per step
// (one chained expression), which cuts the masked stores SwiftShader emits for variables written in
// a loop. A one-k loop finishes the slice's last K % KU. Per KU k a subgroup issues R*KU/4 (A) +
// KU*J (B) loads for 4*R*J*KU multiply-adds; see DESIGN.md and bench/matmul-ceiling for the numbers.
//
// One kernel serves every layout (NN, NT, TN, TT): the strides of A and B come from the TRANS_A /
// TRANS_B flags at run time. Every load is a per-lane gather on SwiftShader whatever its stride, so
// the generic kernel runs as fast as kernels generated per layout (side by side on NN, NT and TN
// training shapes and 1024^3, within this VM's noise), and a training step compiles one large
// matmul pipeline per tile instead of one per layout (each takes 2-3 s to compile here).
// Assumes subgroups of exactly 4 lanes made of consecutive invocations (the launcher checks the size).
import { header, sliceSetup } from './common';

export interface SubgroupRbSpec {
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

/**
 * One step over k .. k + KU - 1 (all inside the slice): loads, broadcasts and one fma chain per
 * accumulator. A[m0 + r, k + i] is at ar{r} + (k + i) * sAk, B[k + i, column j] at cb{j} + (k + i) * sBk.
 */
function step(s: SubgroupRbSpec): string[] {
  const { R, J, KU } = s;
  const out: string[] = [];
  // a{r}_{q}: lane l holds A[m0 + r, k + 4q + l]; x{r}_{i} is A[m0 + r, k + i] in every lane.
  for (const q of range(KU / 4)) out.push(`  let ka${q} = (k + ${4 * q}u + lane) * sAk;`);
  for (const q of range(KU / 4)) for (const r of range(R)) out.push(`  let a${r}_${q} = A[ar${r} + ka${q}];`);
  for (const i of range(KU)) out.push(`  let kb${i} = (k + ${i}u) * sBk;`);
  for (const i of range(KU)) for (const j of range(J)) out.push(`  let b${i}_${j} = B[cb${j} + kb${i}];`);
  for (const r of range(R)) {
    for (const i of range(KU)) out.push(`  let x${r}_${i} = subgroupBroadcast(a${r}_${i >> 2}, ${i & 3}u);`);
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
  const out = ['  let ka = k * sAk;', '  let kb = k * sBk;'];
  for (const r of range(R)) out.push(`  let a${r} = A[ar${r} + ka];`);
  for (const j of range(J)) out.push(`  let b${j} = B[cb${j} + kb];`);
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
    // Element strides: A[m, k] is at aBase + m * sAm + k * sAk, B[k, n] at bBase + k * sBk + n * sBn.
    '  let transA = (p.flags & TRANS_A) != 0u;',
    '  let transB = (p.flags & TRANS_B) != 0u;',
    '  let sAm = select(p.K, 1u, transA);',
    '  let sAk = select(1u, p.M, transA);',
    '  let sBk = select(p.N, 1u, transB);',
    '  let sBn = select(1u, p.K, transB);',
  ];
  // Row and column starts, clamped into the matrix and fixed for the whole k loop.
  for (const r of range(R)) lines.push(`  let ar${r} = aBase + min(m0 + ${r}u, mLast) * sAm;`);
  for (const j of range(J)) lines.push(`  let cb${j} = bBase + min(n0 + ${4 * j}u + lane, nLast) * sBn;`);
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
