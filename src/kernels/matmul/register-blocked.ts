// WGSL generator for the `register-blocked` matmul: no workgroup memory, no subgroups. Each
// invocation computes a TM x TN block of C from registers; per 4 k it loads TM chunks of A and
// TN chunks of B, a chunk being 4 consecutive elements along the operand's contiguous dimension.
// With `vec4` (every contiguous dimension a multiple of 4) a chunk is one vec4 load; otherwise it
// is 4 scalar loads with clamped indices. The fallback when the adapter has no subgroups.
import { type Layout, header, kAt, kLoop, kMasked, sliceSetup } from './common';

export interface RegisterBlockedSpec extends Layout {
  /** Rows and columns of C per invocation (multiples of 4). */
  TM: number;
  TN: number;
  /** Invocations per workgroup along N (x) and M (y). */
  WGX: number;
  WGY: number;
  /** Load A and B as vec4 (the launcher checks the alignment). */
  vec4: boolean;
}

export const registerBlockedTile = (s: RegisterBlockedSpec): { rows: number; cols: number } => ({ rows: s.TM * s.WGY, cols: s.TN * s.WGX });

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

/** Lines that load A and B for k..k+3 and name the values a{i}_{kk} (row i) and b{kk}_{j} (column j). */
function loads(s: RegisterBlockedSpec, guarded: boolean): { lines: string[]; a: (i: number, kk: number) => string; b: (kk: number, j: number) => string } {
  const { TM, TN, vec4 } = s;
  const lines: string[] = [];
  let a: (i: number, kk: number) => string;
  let b: (kk: number, j: number) => string;
  if (!s.transA) {
    // A is (M,K): row i gives one chunk along k.
    for (const i of range(TM)) {
      if (vec4) lines.push(`  let va${i} = A[(ar${i} + k) / 4u];`);
      else for (const kk of range(4)) lines.push(`  let a${i}_${kk} = ${kMasked(`A[ar${i} + ${kAt(kk, guarded)}]`, kk, guarded)};`);
    }
    a = vec4 ? (i, kk) => `va${i}[${kk}]` : (i, kk) => `a${i}_${kk}`;
  } else {
    // A is (K,M): each k gives TM/4 chunks along m.
    for (const kk of range(4)) {
      const row = `aBase + (${kAt(kk, guarded)}) * p.M`;
      if (vec4) for (const q of range(TM / 4)) lines.push(`  let va${kk}_${q} = A[(${row} + min(mt + ${4 * q}u, p.M - 4u)) / 4u];`);
      else for (const i of range(TM)) lines.push(`  let a${i}_${kk} = ${kMasked(`A[${row} + min(mt + ${i}u, mLast)]`, kk, guarded)};`);
    }
    a = vec4 ? (i, kk) => kMasked(`va${kk}_${i >> 2}[${i & 3}]`, kk, guarded) : (i, kk) => `a${i}_${kk}`;
  }
  if (!s.transB) {
    // B is (K,N): each k gives TN/4 chunks along n.
    for (const kk of range(4)) {
      const row = `bBase + (${kAt(kk, guarded)}) * p.N`;
      if (vec4) for (const q of range(TN / 4)) lines.push(`  let vb${kk}_${q} = B[(${row} + min(nt + ${4 * q}u, p.N - 4u)) / 4u];`);
      else for (const j of range(TN)) lines.push(`  let b${kk}_${j} = B[${row} + bn${j}];`);
    }
    b = vec4 ? (kk, j) => `vb${kk}_${j >> 2}[${j & 3}]` : (kk, j) => `b${kk}_${j}`;
  } else {
    // B is (N,K): column j gives one chunk along k.
    for (const j of range(TN)) {
      if (vec4) lines.push(`  let vb${j} = B[(br${j} + k) / 4u];`);
      else for (const kk of range(4)) lines.push(`  let b${kk}_${j} = B[br${j} + ${kAt(kk, guarded)}];`);
    }
    b = vec4 ? (kk, j) => `vb${j}[${kk}]` : (kk, j) => `b${kk}_${j}`;
  }
  return { lines, a, b };
}

function step(s: RegisterBlockedSpec, guarded: boolean): string[] {
  const { lines, a, b } = loads(s, guarded);
  for (const i of range(s.TM)) {
    for (const j of range(s.TN)) {
      let acc = `c${i}_${j}`;
      for (const kk of range(4)) acc = `fma(${a(i, kk)}, ${b(kk, j)}, ${acc})`;
      lines.push(`  c${i}_${j} = ${acc};`);
    }
  }
  return lines;
}

export function registerBlockedWgsl(s: RegisterBlockedSpec): string {
  const { TM, TN, WGX, WGY, vec4 } = s;
  if (TM % 4 !== 0 || TN % 4 !== 0) throw new RangeError(`register-blocked: TM=${TM}, TN=${TN} must be multiples of 4`);
  const elem = vec4 ? 'vec4f' : 'f32';
  const lines = [
    header(elem, elem),
    `@compute @workgroup_size(${WGX}, ${WGY})`,
    'fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) tid: vec3u) {',
    `  let mt = (wid.y * ${WGY}u + tid.y) * ${TM}u;`,
    `  let nt = (wid.x * ${WGX}u + tid.x) * ${TN}u;`,
    '  if (mt >= p.M || nt >= p.N) { return; }',
    ...sliceSetup(),
  ];
  // Clamped row starts (A) and columns (B), fixed for the whole k loop.
  if (!s.transA) for (const i of range(TM)) lines.push(`  let ar${i} = aBase + min(mt + ${i}u, mLast) * p.K;`);
  if (!s.transB && !vec4) for (const j of range(TN)) lines.push(`  let bn${j} = min(nt + ${j}u, nLast);`);
  if (s.transB) for (const j of range(TN)) lines.push(`  let br${j} = bBase + min(nt + ${j}u, nLast) * p.K;`);
  for (const i of range(TM)) for (const j of range(TN)) lines.push(`  var c${i}_${j} = 0.0;`);
  // A (M,K) or B (N,K) is contiguous along k; with vec4 loads that makes K a multiple of 4: no tail.
  const kContiguous = !s.transA || s.transB;
  lines.push(...kLoop((guarded) => step(s, guarded), !(vec4 && kContiguous)));
  // One copy of the epilogue (it is inlined per call): the accumulators go through a private array.
  lines.push(`  var acc: array<f32, ${TM * TN}>;`);
  for (const i of range(TM)) for (const j of range(TN)) lines.push(`  acc[${i * TN + j}] = c${i}_${j};`);
  lines.push(`  for (var t = 0u; t < ${TM * TN}u; t++) {`, `    store_c(z, mt + t / ${TN}u, nt + t % ${TN}u, acc[t]);`, '  }');
  lines.push('}');
  return lines.join('\n');
}
