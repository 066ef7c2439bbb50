// What the matmul WGSL generators share: the layout of A and B, index expressions, and the
// register-blocked kernel's k loop (unguarded steps of 4 while a whole step fits in the slice, then
// one guarded step for the K % 4 tail, so the hot loop carries no bounds checks; subgroup-rb ends
// its wider steps with a loop of single k instead).
import epilogue from '../../../shaders/matmul_epilogue.wgsl?raw';

/** Which operands are stored transposed: a is (K,M) when transA, b is (N,K) when transB. */
export interface Layout {
  transA: boolean;
  transB: boolean;
}

export const layoutName = (l: Layout): string => `${l.transA ? 'T' : 'N'}${l.transB ? 'T' : 'N'}`;

/** The epilogue (Params, C at binding 0, bias at 1, params at 2, store_c) followed by A at 3 and B at 4. */
export function header(elemA = 'f32', elemB = 'f32'): string {
  return [
    epilogue,
    `@group(0) @binding(3) var<storage, read> A: array<${elemA}>;`,
    `@group(0) @binding(4) var<storage, read> B: array<${elemB}>;`,
  ].join('\n');
}

/** Flat element index of A[m, k] for a batch entry starting at `base`. */
export const aIndex = (l: Layout, base: string, m: string, k: string): string =>
  l.transA ? `${base} + (${k}) * p.M + ${m}` : `${base} + (${m}) * p.K + ${k}`;

/** Flat element index of B[k, n] for a batch entry starting at `base`. */
export const bIndex = (l: Layout, base: string, k: string, n: string): string =>
  l.transB ? `${base} + (${n}) * p.K + ${k}` : `${base} + (${k}) * p.N + ${n}`;

/**
 * Lines that set up the workgroup's batch entry and K slice: `z`, `aBase`, `bBase`, `k0`, `k1`
 * and the clamps `mLast`, `nLast`, `kLast` used to keep edge loads in bounds.
 */
export const sliceSetup = (): string[] => [
  '  let z = wid.z;',
  '  let aBase = (z % p.batch) * p.strideA;',
  '  let bBase = (z % p.batch) * p.strideB;',
  '  let k0 = (z / p.batch) * p.kChunk;',
  '  let k1 = min(p.K, k0 + p.kChunk);',
  '  let mLast = p.M - 1u;',
  '  let nLast = p.N - 1u;',
  '  let kLast = p.K - 1u;',
];

/**
 * The k loop over [k0, k1) in steps of 4: `step(false)` is emitted for the loop body, where
 * k..k+3 are all in the slice, and `step(true)` once for the tail, where k + i may reach k1 and
 * loads must clamp k and contribute zero. `tail: false` when K is known to be a multiple of 4.
 */
export function kLoop(step: (guarded: boolean) => string[], tail = true): string[] {
  const lines = ['  var k = k0;', '  loop {', '    if (k + 4u > k1) { break; }', ...step(false).map((s) => `  ${s}`), '    k += 4u;', '  }'];
  if (tail) lines.push('  if (k < k1) {', ...step(true).map((s) => `  ${s}`), '  }');
  return lines;
}

/** `k + i` in the loop body, clamped to the matrix in the guarded tail. */
export const kAt = (i: number | string, guarded: boolean): string => (guarded ? `min(k + ${i}, kLast)` : `k + ${i}`);

/** An A value that must not contribute when k + i is past the slice (tail step only). */
export const kMasked = (value: string, i: number | string, guarded: boolean): string =>
  guarded ? `select(0.0, ${value}, k + ${i} < k1)` : value;
