// A linear layer (bias, LoRA) whose tensors exceed a forced binding limit: split into row blocks,
// output chunks or both (linear-split.ts), forward and backward equal the unsplit launches and the
// float64 reference. The recorder refuses any binding above the limit, so passing proves the split.
import { afterEach, describe, expect, it } from 'vitest';
import { type Tensor, byteLength } from '../../src/gpu/tensor';
import { linearBackward, linearForward } from '../../src/model/linear';
import { planLinear } from '../../src/model/linear-split';
import { testEngine } from '../helpers/gpu';
import { randArray, rng } from '../helpers/random';
import { GpuData, run } from '../kernels/gpu-data';
import { matmulRef } from '../reference/matmul';
import { reduceColsRef } from '../reference/reduce-cols';

const e = await testEngine();
const d = new GpuData(e);
afterEach(() => {
  e.bindingLimit = null;
  d.free();
});

const LIMIT = 32768;

interface Case {
  name: string;
  N: number;
  inDim: number;
  outDim: number;
  /** Expected split under LIMIT: row blocks and output chunks (0 = w not chunked). */
  blocks: number;
  chunks: number;
}

const cases: Case[] = [
  { name: 'row blocks and output chunks', N: 45, inDim: 40, outDim: 300, blocks: 3, chunks: 2 },
  { name: 'output chunks only', N: 5, inDim: 40, outDim: 300, blocks: 1, chunks: 2 },
  { name: 'row blocks only', N: 45, inDim: 24, outDim: 300, blocks: 3, chunks: 0 },
];

const add = (a: ArrayLike<number>, b: ArrayLike<number>) => Float64Array.from(a, (x, i) => x + b[i]);

describe(`linear layer with split bindings on ${e.gpu.adapter.name}`, () => {
  it('names the tensors when not even one aligned block of rows fits', () => {
    // 1204-byte rows of y align only every 64 rows (77 KB): more than the limit
    const x = { ...d.tensor(new Float32Array(45 * 40), [45, 40]), label: 'xnf' };
    const y = { ...d.poisoned([45, 301]), label: 'logits' };
    e.bindingLimit = LIMIT;
    expect(() => planLinear(e, x, d.tensor(new Float32Array(301 * 40), [301, 40]), y, 0)).toThrow(
      /linear rows of xnf \/ logits \(the smallest aligned piece: 64 items of 1204 bytes\) needs 77056 bytes .*limit of 32768 bytes/,
    );
  });

  for (const c of cases) {
    // without LoRA dx is overwritten (as for the LM head), with LoRA it accumulates
    for (const withLora of [false, true]) {
      const accumulateDx = withLora;
      it(`${c.name} (N=${c.N}, in=${c.inDim}, out=${c.outDim}${withLora ? ', LoRA r=4, dx +=' : ', dx ='}): forward and backward equal the unsplit ones and the reference`, async () => {
        const { N, inDim: I, outDim: O } = c;
        const r = 4;
        const scale = 1.75;
        const g = rng(N * 7 + I + O + (withLora ? 1 : 0));
        const x = randArray(g, N * I);
        const w = randArray(g, O * I, 0.5);
        const b = randArray(g, O);
        const dy = randArray(g, N * O);
        const dx0 = randArray(g, N * I);
        const A = randArray(g, r * I, 0.5);
        const Bm = randArray(g, O * r, 0.5);
        const dw0 = randArray(g, O * I);

        const run1 = async (limit: number | null) => {
          const t = {
            x: d.tensor(x, [N, I]), w: d.tensor(w, [O, I], 256), b: d.tensor(b, [O]), y: d.poisoned([N, O]),
            dy: d.tensor(dy, [N, O]), dx: accumulateDx ? d.tensor(dx0, [N, I]) : d.poisoned([N, I]), dw: d.tensor(dw0, [O, I]), db: d.tensor(new Float32Array(O), [O]),
            A: d.tensor(A, [r, I]), B: d.tensor(Bm, [O, r]), u: d.poisoned([N, r]), du: d.poisoned([N, r]),
            dA: d.tensor(new Float32Array(r * I), [r, I]), dB: d.tensor(new Float32Array(O * r), [O, r]),
          };
          const lora = withLora ? { A: t.A, B: t.B, scale, u: t.u } : undefined;
          e.rec.submit();
          e.bindingLimit = limit;
          try {
            if (limit !== null) {
              expect(byteLength(t.y) > limit || byteLength(t.w) > limit, 'the case exceeds the limit').toBe(true);
              const plan = planLinear(e, t.x, t.w, t.y, withLora ? r : 0);
              expect([plan.rows.length, plan.out?.length ?? 0]).toEqual([c.blocks, c.chunks]);
            }
            await linearForward(e, t.x, t.w, t.b, t.y, lora);
            await linearBackward(e, t.dy, t.x, t.w, t.dx, accumulateDx, { dw: t.dw, db: t.db, lora: withLora ? { dA: t.dA, dB: t.dB, du: t.du } : undefined }, lora);
          } finally {
            e.bindingLimit = null;
          }
          const read = (k: keyof typeof t) => run(e, t[k] as Tensor);
          return { y: await read('y'), dx: await read('dx'), dw: await read('dw'), db: await read('db'), dA: await read('dA'), dB: await read('dB') };
        };
        const whole = await run1(null);
        const split = await run1(LIMIT);

        // float64 reference: y = x·wᵀ + b (+ s·(x·Aᵀ)·Bᵀ); dx += dy·w (+ du·A, du = s·dy·B); dw += dyᵀ·x; db = Σ dy; dB = s·dyᵀ·u; dA = duᵀ·x
        let y = matmulRef(x, w, N, O, I, { transB: true, bias: b });
        let dx = matmulRef(dy, w, N, I, O, { c0: accumulateDx ? dx0 : undefined });
        const ref: Record<string, Float64Array> = { dw: matmulRef(dy, x, O, I, N, { transA: true, c0: dw0 }), db: reduceColsRef(dy, N, O) };
        if (withLora) {
          const u = matmulRef(x, A, N, r, I, { transB: true });
          y = add(y, matmulRef(u, Bm, N, O, r, { transB: true, alpha: scale }));
          const du = matmulRef(dy, Bm, N, r, O, { alpha: scale });
          dx = add(dx, matmulRef(du, A, N, I, r));
          ref.dB = matmulRef(dy, u, O, r, N, { transA: true, alpha: scale });
          ref.dA = matmulRef(du, x, r, I, N, { transA: true });
        }
        ref.y = y;
        ref.dx = dx;
        for (const k of ['y', 'dx', 'dw', 'db', ...(withLora ? ['dA', 'dB'] : [])] as const) {
          const key = k as keyof typeof split;
          expect(split[key], `${k} split vs unsplit`).toAllClose(whole[key]);
          expect(split[key], `${k} split vs reference`).toAllClose(ref[k]);
        }
      });
    }
  }
});
