// Matmul throughput: median ms and GFLOP/s (2MNK / time) of the variant `matmul` picks for the
// shapes of training (tokens T=2048, widths d), every variant side by side at 1024^3, and the same
// shapes through tfjs-backend-webgpu's tf.matMul on the same adapter in the same run. Each tfjs
// launch is followed by ours on the same shape, and the ratio takes the median of those samples and
// the first table's, so a slow spell of a noisy machine during one table does not decide it.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-webgpu';
import type { Engine } from '../../src/gpu/engine';
import type { Tensor } from '../../src/gpu/tensor';
import { createTensor } from '../../src/gpu/transfer';
import { type MatmulShape, type MatmulVariant, availableMatmulVariants, chooseMatmulVariant, describeMatmul, matmul } from '../../src/kernels/matmul';
import { median, row, timeKernel } from '../timing';

interface BenchShape extends MatmulShape {
  name: string;
}

const T = 2048;
/** tf.matMul runs at well under 1 GFLOP/s on a CPU adapter: shapes that would take it past this are skipped. */
const TFJS_BUDGET_MS = 120_000;

const CUBE: BenchShape = { name: '1024^3', M: 1024, N: 1024, K: 1024 };

/** The shapes of training (1024^3 is timed in the table of variants). */
function shapes(): BenchShape[] {
  const out: BenchShape[] = [];
  for (const d of [256, 512, 768]) {
    out.push(
      { name: `(T x d)(d x d) d=${d}`, M: T, N: d, K: d },
      { name: `(T x d)(d x 4d) d=${d}`, M: T, N: 4 * d, K: d },
      { name: `wgrad (d x T)(T x d) d=${d}`, M: d, N: d, K: T, transA: true },
      { name: `LM head V=512 d=${d}`, M: T, N: 512, K: d },
    );
  }
  out.push({ name: 'LM head V=32000 d=256', M: T, N: 32000, K: 256 });
  return out;
}

const flops = (s: MatmulShape): number => 2 * s.M * s.N * s.K * (s.batch ?? 1);
const gflops = (s: MatmulShape, ms: number): number => flops(s) / (ms * 1e6);
/** One sample for launches over about 2 s (at 4 GFLOP/s), three otherwise: the whole benchmark stays within minutes. */
const samplesFor = (s: MatmulShape): number => (flops(s) > 8e9 ? 1 : 3);

function random(n: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = Math.random() * 2 - 1;
  return a;
}

interface Operands {
  a: Tensor;
  b: Tensor;
  c: Tensor;
}

function operands(e: Engine, s: MatmulShape): Operands {
  const a = createTensor(e.gpu, random(s.M * s.K), s.transA ? [s.K, s.M] : [s.M, s.K]);
  const b = createTensor(e.gpu, random(s.K * s.N), s.transB ? [s.N, s.K] : [s.K, s.N]);
  return { a, b, c: e.pool.tensor([s.M, s.N]) };
}

function free(e: Engine, o: Operands): void {
  o.a.buffer.destroy();
  o.b.buffer.destroy();
  e.pool.release(o.c);
}

/** Samples (ms) of `samples` launches of `variant` after a warm-up. */
async function timeOurs(e: Engine, s: MatmulShape, o: Operands, variant: MatmulVariant, samples: number): Promise<number[]> {
  const t = await timeKernel(e, () => matmul(e, o.a, o.b, o.c, { transA: s.transA, transB: s.transB, variant }), { warmup: 1, samples });
  return t.samples;
}

/** `timeOurs` on fresh operands of `s` with the variant matmul picks. */
async function timeDefault(e: Engine, s: MatmulShape): Promise<number[]> {
  const ops = operands(e, s);
  try {
    return await timeOurs(e, s, ops, chooseMatmulVariant(e, s), samplesFor(s));
  } finally {
    free(e, ops);
  }
}

/**
 * tf.matMul, one launch per shape (tfjs on a CPU adapter is slow: several seconds per shape), timed
 * by tf.time: the GPU time of its kernels from timestamp queries, which leaves shader compilation
 * out without a warm-up launch; wall time when the adapter has no timestamp queries.
 */
async function timeTfjs(s: MatmulShape): Promise<{ ms: number; how: string }> {
  const a = tf.randomUniform(s.transA ? [s.K, s.M] : [s.M, s.K], -1, 1);
  const b = tf.randomUniform(s.transB ? [s.N, s.K] : [s.K, s.N], -1, 1);
  let c: tf.Tensor | undefined;
  const info = await tf.time(() => {
    c = tf.matMul(a, b, s.transA, s.transB);
  });
  tf.dispose([a, b, ...(c ? [c] : [])]);
  return typeof info.kernelMs === 'number' ? { ms: info.kernelMs, how: 'kernel' } : { ms: info.wallMs, how: 'wall' };
}

/**
 * Prints the variant table at 1024^3, ours on the training shapes, then tfjs on the same shapes.
 * `only` (a part of a shape's name, e.g. "V=32000") narrows both shape tables to the shapes that
 * match, which lets tfjs run a shape the whole benchmark's time budget leaves out.
 */
export async function benchMatmul(e: Engine, log: (line: string) => void, only?: string): Promise<void> {
  const picked = [CUBE, ...shapes()].filter((s) => !only || s.name.includes(only));
  if (picked.length === 0) throw new Error(`bench matmul: no shape name contains "${only}" (shapes: ${[CUBE, ...shapes()].map((s) => s.name).join('; ')})`);
  log(`matmul on ${e.gpu.adapter.name} (subgroups: ${e.gpu.hasSubgroups}; variants: ${availableMatmulVariants(e).join(', ')})`);
  const W = [28, 10, 9, 56];

  log('');
  log('every variant at 1024^3 (NN):');
  log(row(['variant', 'ms', 'GFLOP/s', 'launch'], W));
  /** Samples of the default variant per shape, pooled over both tables. */
  const ours = new Map<string, number[]>();
  const o = operands(e, CUBE);
  for (const v of availableMatmulVariants(e)) {
    const samples = await timeOurs(e, CUBE, o, v, v === 'tiled' && e.gpu.adapter.isSoftware ? 1 : 3);
    const ms = median(samples);
    if (v === chooseMatmulVariant(e, CUBE)) ours.set(CUBE.name, samples);
    log(row([v, ms.toFixed(1), gflops(CUBE, ms).toFixed(2), describeMatmul(e, CUBE, v)], W));
  }
  free(e, o);

  log('');
  log('training shapes (T=2048), the variant matmul picks by default:');
  log(row(['shape', 'ms', 'GFLOP/s', 'launch'], W));
  for (const s of picked.filter((x) => x !== CUBE)) {
    const samples = await timeDefault(e, s);
    ours.set(s.name, samples);
    log(row([s.name, median(samples).toFixed(1), gflops(s, median(samples)).toFixed(2), describeMatmul(e, s)], W));
  }

  await tf.setBackend('webgpu');
  await tf.ready();
  log('');
  log(`the same shapes through tfjs-backend-webgpu ${tf.version_core} tf.matMul (backend: ${tf.getBackend()}):`);
  log(row(['shape', 'tfjs ms', 'GFLOP/s', 'ours/tfjs (GFLOP/s ratio)', 'ours ms (median of both tables)'], [...W.slice(0, 3), 27, 32]));
  let spentMs = 0;
  let rate = Infinity; // tfjs GFLOP/s so far, to skip what would overrun the budget
  for (const s of picked) {
    const estimateMs = flops(s) / (rate * 1e6);
    if (spentMs + estimateMs > TFJS_BUDGET_MS) {
      log(row([s.name, `skipped: about ${(estimateMs / 1000).toFixed(0)} s at ${rate.toFixed(2)} GFLOP/s, over the time budget`], [W[0], 80]));
      continue;
    }
    const t = await timeTfjs(s);
    spentMs += t.ms;
    rate = gflops(s, t.ms);
    const mine = median([...(ours.get(s.name) ?? []), ...(await timeDefault(e, s))]);
    log(row([s.name, `${t.ms.toFixed(1)} ${t.how}`, rate.toFixed(2), (t.ms / mine).toFixed(2), mine.toFixed(1)], [...W.slice(0, 3), 27, 32]));
  }
}
