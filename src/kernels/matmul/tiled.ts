// WGSL generator for the `tiled` matmul: the classic GPU design. A 16x16 workgroup stages a
// BK-deep slab of A (BM rows) and of B (BN columns) in workgroup memory, synchronises, and each
// invocation accumulates a TM x TN block of C from it. Loads are arranged so that neighbouring
// invocations read neighbouring addresses for every layout; edges are filled with zeros.
// Barriers make SwiftShader run the workgroup as coroutines, so this variant is for GPUs.
import { type Layout, aIndex, bIndex, header, sliceSetup } from './common';

const WG = 16;
const TM = 4;
const TN = 4;
const BM = WG * TM;
const BN = WG * TN;
const BK = 16;
const THREADS = WG * WG;

export const tiledTile = (): { rows: number; cols: number } => ({ rows: BM, cols: BN });

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

/** Lines staging element `e` of the slab: (kk, mm) of A and (kk, nn) of B, in the operand's memory order. */
function stage(l: Layout): string[] {
  const lines: string[] = [];
  for (const u of range((BK * BM) / THREADS)) {
    const e = `lid + ${u * THREADS}u`;
    const [mm, kk] = l.transA ? [`(${e}) % ${BM}u`, `(${e}) / ${BM}u`] : [`(${e}) / ${BK}u`, `(${e}) % ${BK}u`];
    lines.push(
      `    { let mm = ${mm}; let kk = ${kk}; let m = mTile + mm; let kx = kt + kk;`,
      `      As[kk * ${BM}u + mm] = select(0.0, A[${aIndex(l, 'aBase', 'min(m, mLast)', 'min(kx, kLast)')}], m < p.M && kx < k1); }`,
    );
  }
  for (const u of range((BK * BN) / THREADS)) {
    const e = `lid + ${u * THREADS}u`;
    const [nn, kk] = l.transB ? [`(${e}) / ${BK}u`, `(${e}) % ${BK}u`] : [`(${e}) % ${BN}u`, `(${e}) / ${BN}u`];
    lines.push(
      `    { let nn = ${nn}; let kk = ${kk}; let n = nTile + nn; let kx = kt + kk;`,
      `      Bs[kk * ${BN}u + nn] = select(0.0, B[${bIndex(l, 'bBase', 'min(kx, kLast)', 'min(n, nLast)')}], n < p.N && kx < k1); }`,
    );
  }
  return lines;
}

export function tiledWgsl(l: Layout): string {
  const lines = [
    header(),
    `var<workgroup> As: array<f32, ${BK * BM}>;`,
    `var<workgroup> Bs: array<f32, ${BK * BN}>;`,
    `@compute @workgroup_size(${WG}, ${WG})`,
    'fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) tid: vec3u, @builtin(local_invocation_index) lid: u32) {',
    `  let mTile = wid.y * ${BM}u;`,
    `  let nTile = wid.x * ${BN}u;`,
    ...sliceSetup(),
  ];
  for (const i of range(TM)) for (const j of range(TN)) lines.push(`  var c${i}_${j} = 0.0;`);
  lines.push(`  for (var kt = k0; kt < k1; kt += ${BK}u) {`, ...stage(l), '    workgroupBarrier();', `    for (var kk = 0u; kk < ${BK}u; kk++) {`);
  for (const i of range(TM)) lines.push(`      let a${i} = As[kk * ${BM}u + tid.y * ${TM}u + ${i}u];`);
  for (const j of range(TN)) lines.push(`      let b${j} = Bs[kk * ${BN}u + tid.x * ${TN}u + ${j}u];`);
  for (const i of range(TM)) for (const j of range(TN)) lines.push(`      c${i}_${j} = fma(a${i}, b${j}, c${i}_${j});`);
  lines.push('    }', '    workgroupBarrier();', '  }');
  // One copy of the epilogue (it is inlined per call): the accumulators go through a private array.
  lines.push(`  var acc: array<f32, ${TM * TN}>;`);
  for (const i of range(TM)) for (const j of range(TN)) lines.push(`  acc[${i * TN + j}] = c${i}_${j};`);
  lines.push(
    `  for (var t = 0u; t < ${TM * TN}u; t++) {`,
    `    store_c(z, mTile + tid.y * ${TM}u + t / ${TN}u, nTile + tid.x * ${TN}u + t % ${TN}u, acc[t]);`,
    '  }',
  );
  lines.push('}');
  return lines.join('\n');
}
