import { afterEach, describe, expect, it } from 'vitest';
import type { Gpu } from '../../src/gpu/device';
import type { Engine } from '../../src/gpu/engine';
import { subview } from '../../src/gpu/tensor';
import { createTensor, fill, readF32, upload } from '../../src/gpu/transfer';
import {
  type MatmulShape,
  type MatmulVariant,
  availableMatmulVariants,
  chooseMatmulVariant,
  matmul,
  matmulClass,
  tuneMatmul,
} from '../../src/kernels/matmul';
import { forgetRememberedVariants, loadRememberedVariants, rememberedVariant, setVariantOverride } from '../../src/kernels/variant-cache';
import { testEngine } from '../helpers/gpu';
import { randArray, rng } from '../helpers/random';
import { matmulRef } from '../reference/matmul';

const e = await testEngine();

/** The same engine (device, pipelines, pool, recorder) seen as one without subgroups: forces the fallbacks. */
function withoutSubgroups(eng: Engine): Engine {
  const gpu = Object.create(eng.gpu) as Gpu;
  Object.defineProperty(gpu, 'hasSubgroups', { value: false });
  const view = Object.create(eng) as Engine;
  Object.defineProperty(view, 'gpu', { value: gpu });
  return view;
}
const noSubgroups = withoutSubgroups(e);

type Mode = 'plain' | 'bias' | 'accumulate' | 'batched';
interface Case {
  M: number;
  N: number;
  K: number;
  transA: boolean;
  transB: boolean;
  mode: Mode;
  /** Batched mode: this operand is shared by the batch entries (batch stride 0) instead of one per entry. */
  shared?: 'A' | 'B';
}

const BATCH = 3;

/** Runs one case on `eng` with `variant` against the float64 reference; returns the dispatch count. */
async function check(eng: Engine, variant: MatmulVariant, c: Case, seed: number): Promise<number> {
  const { M, N, K, transA, transB, mode } = c;
  const r = rng(seed);
  const batch = mode === 'batched' ? BATCH : 1;
  const batchedA = batch > 1 && c.shared !== 'A';
  const batchedB = batch > 1 && c.shared !== 'B';
  const lead = (batched: boolean): number[] => (batched ? [batch] : []);
  const a = randArray(r, (batchedA ? batch : 1) * M * K);
  const b = randArray(r, (batchedB ? batch : 1) * K * N);
  const at = createTensor(eng.gpu, a, [...lead(batchedA), ...(transA ? [K, M] : [M, K])]);
  const bt = createTensor(eng.gpu, b, [...lead(batchedB), ...(transB ? [N, K] : [K, N])]);
  const ct = eng.pool.tensor([...lead(batch > 1), M, N]);
  const bias = mode === 'bias' || mode === 'accumulate' ? randArray(r, N) : undefined;
  const biasT = bias ? createTensor(eng.gpu, bias, [N]) : undefined;
  const c0 = mode === 'accumulate' ? randArray(r, M * N) : undefined;
  if (c0) upload(eng.gpu, ct, c0);
  else fill(eng.gpu, ct, NaN); // poison: an unwritten element fails
  const alpha = mode === 'accumulate' ? 0.5 : 1;
  await matmul(eng, at, bt, ct, { transA, transB, bias: biasT, accumulate: mode === 'accumulate', alpha, variant });
  const dispatches = eng.rec.dispatches;
  eng.rec.submit();
  const want = matmulRef(a, b, M, N, K, { transA, transB, batch, batchedA, batchedB, alpha, bias, c0 });
  expect(await readF32(eng.gpu, ct)).toAllClose(want);
  eng.pool.release(ct);
  for (const t of [at, bt, biasT]) t?.buffer.destroy();
  return dispatches;
}

const LAYOUTS = [
  { name: 'NN', transA: false, transB: false },
  { name: 'NT', transA: false, transB: true },
  { name: 'TN', transA: true, transB: false },
];
const MODES: Mode[] = ['plain', 'bias', 'accumulate', 'batched'];
/** No dimension a multiple of any tile (32, 64, 128); [36, 52, 68] is 4-aligned (vec4 loads); M=1, K=1, N=1 edges. */
const SHAPES: [number, number, number][] = [
  [37, 53, 71],
  [13, 70, 40], // 9..23 rows: subgroup-rb's 16-row tile
  [129, 67, 300],
  [36, 52, 68],
  [1, 53, 71],
  [37, 53, 1],
  [37, 1, 71],
];

describe(`matmul on ${e.gpu.adapter.name}`, () => {
  afterEach(() => setVariantOverride('matmul', null));

  // f32 dot products of length K: relative error ~1e-7 * sqrt(K), under the default 1e-5 for these K.
  for (const variant of availableMatmulVariants(e)) {
    for (const l of LAYOUTS) {
      for (const mode of MODES) {
        SHAPES.forEach(([M, N, K], i) => {
          const shared = ([undefined, 'B', 'A'] as const)[i % 3];
          const title = `${variant} ${l.name} ${mode}${mode === 'batched' ? (shared ? ` (shared ${shared})` : ' (all batched)') : ''} M=${M} N=${N} K=${K}`;
          it(title, async () => {
            await check(e, variant, { M, N, K, transA: l.transA, transB: l.transB, mode, shared }, 1000 * i + M + N + K);
          });
        });
      }
    }
  }

  for (const variant of availableMatmulVariants(e)) {
    it(`${variant} TT (both transposed) matches the reference`, async () => {
      await check(e, variant, { M: 37, N: 53, K: 71, transA: true, transB: true, mode: 'accumulate' }, 21);
      await check(e, variant, { M: 36, N: 52, K: 300, transA: true, transB: true, mode: 'batched', shared: 'B' }, 22);
    });
  }

  for (const variant of ['register-blocked', 'splitk'] as const) {
    for (const l of LAYOUTS) {
      it(`${variant} without subgroups ${l.name} (bias, batched, shared B) matches the reference`, async () => {
        await check(noSubgroups, variant, { M: 37, N: 53, K: 300, transA: l.transA, transB: l.transB, mode: 'batched', shared: 'B' }, 7);
        await check(noSubgroups, variant, { M: 36, N: 52, K: 300, transA: l.transA, transB: l.transB, mode: 'bias' }, 8);
      });
    }
  }

  it('splitk sums many slices of a long K in two dispatches', async () => {
    // K = 5000: relative error ~1e-7 * sqrt(5000) ~ 7e-6, still under 1e-5.
    const n = await check(e, 'splitk', { M: 5, N: 37, K: 5000, transA: true, transB: false, mode: 'accumulate' }, 11);
    expect(n).toBe(2);
  });

  it('one dispatch per matmul for the other variants', async () => {
    for (const v of availableMatmulVariants(e).filter((x) => x !== 'splitk')) {
      expect(await check(e, v, { M: 9, N: 10, K: 11, transA: false, transB: false, mode: 'plain' }, 12)).toBe(1);
    }
  });

  it('subgroup-rb runs every layout on one pipeline per tile (the layout is a run-time flag)', async () => {
    if (!availableMatmulVariants(e).includes('subgroup-rb')) return;
    const layout = (transA: boolean, transB: boolean): Case => ({ M: 37, N: 53, K: 71, transA, transB, mode: 'plain' });
    await check(e, 'subgroup-rb', layout(false, false), 31);
    const compiled = e.pipelines.compiles;
    await check(e, 'subgroup-rb', layout(false, true), 32);
    await check(e, 'subgroup-rb', layout(true, false), 33);
    await check(e, 'subgroup-rb', layout(true, true), 34);
    expect(e.pipelines.compiles).toBe(compiled);
  });

  it('offers subgroup-rb only with subgroups, and refuses to force it without', async () => {
    expect(availableMatmulVariants(noSubgroups)).toEqual(['register-blocked', 'tiled', 'splitk']);
    const t = createTensor(e.gpu, new Float32Array(4), [2, 2]);
    await expect(matmul(noSubgroups, t, t, noSubgroups.pool.tensor([2, 2]), { variant: 'subgroup-rb' })).rejects.toThrow('subgroups');
    t.buffer.destroy();
  });

  it('rejects mismatched shapes with readable errors', async () => {
    const a = e.pool.tensor([3, 4]);
    const b = e.pool.tensor([5, 6]);
    const c = e.pool.tensor([3, 6]);
    await expect(matmul(e, a, b, c)).rejects.toThrow('matmul b: expected shape [4,6], got [5,6]');
    await expect(matmul(e, a, e.pool.tensor([6, 4]), c, { transB: true, bias: e.pool.tensor([5]) })).rejects.toThrow('matmul bias: expected shape [6], got [5]');
    await expect(matmul(e, e.pool.tensor([2, 3, 4]), e.pool.tensor([4, 6]), c)).rejects.toThrow('batch dimension');
    const big = e.pool.tensor([100]);
    await expect(matmul(e, subview(big, 4, [3, 4]), b, c)).rejects.toThrow('matmul a: byte offset 16 is not a multiple');
  });

  it('an override forces the variant', () => {
    const s: MatmulShape = { M: 2048, N: 256, K: 256 };
    for (const v of availableMatmulVariants(e)) {
      setVariantOverride('matmul', v);
      expect(chooseMatmulVariant(e, s)).toBe(v);
    }
    setVariantOverride('matmul', null);
    expect(availableMatmulVariants(e)).toContain(chooseMatmulVariant(e, s));
  });

  it('the default without a trial: subgroup-rb on this adapter, splitk for a small C with a long K', () => {
    forgetRememberedVariants();
    if (!e.gpu.adapter.isSoftware) return;
    expect(chooseMatmulVariant(e, { M: 2048, N: 768, K: 768 })).toBe(e.gpu.hasSubgroups ? 'subgroup-rb' : 'register-blocked');
    expect(chooseMatmulVariant(e, { M: 8, N: 16, K: 8192, transA: true })).toBe('splitk'); // one workgroup for 2+ cores
    expect(chooseMatmulVariant(noSubgroups, { M: 2048, N: 768, K: 768 })).toBe('register-blocked');
  });

  it('a trial picks a variant, matmul uses it, and it is remembered across a reload', async () => {
    forgetRememberedVariants();
    const shape: MatmulShape = { M: 96, N: 80, K: 520, transB: true };
    const cls = matmulClass(shape);
    const chosen = await tuneMatmul(e, [shape, { ...shape, M: 100 }], { samples: 1 });
    expect([...chosen.keys()]).toEqual([cls]); // both shapes fall in one class: one trial
    const v = chosen.get(cls);
    expect(availableMatmulVariants(e)).toContain(v);
    expect(rememberedVariant(e, 'matmul', cls)).toBe(v);
    expect(chooseMatmulVariant(e, shape)).toBe(v);
    forgetRememberedVariants(); // memory gone: IndexedDB still has it
    expect(rememberedVariant(e, 'matmul', cls)).toBeUndefined();
    expect(await loadRememberedVariants(e)).toBeGreaterThanOrEqual(1);
    expect(rememberedVariant(e, 'matmul', cls)).toBe(v);
    await check(e, chooseMatmulVariant(e, shape), { M: 96, N: 80, K: 520, transA: false, transB: true, mode: 'bias' }, 13);
  });
});
