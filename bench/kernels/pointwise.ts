// Throughput of the memory-bound kernels: norms, activations, residual add, embedding,
// cross-entropy, AdamW + grad norm, sampling. Prints median ms per call and the effective
// bandwidth (bytes a kernel must read + write, once each, over its time) per kernel and variant.
import type { Engine } from '../../src/gpu/engine';
import type { Tensor } from '../../src/gpu/tensor';
import { createTensor } from '../../src/gpu/transfer';
import { geluBackward, geluForward, swigluBackward, swigluForward } from '../../src/kernels/activations';
import { adamw, gradNorm } from '../../src/kernels/adamw';
import { crossEntropy } from '../../src/kernels/cross-entropy';
import { addInPlace, fillWith } from '../../src/kernels/elementwise';
import { buildTokenIndex, embeddingBackward, embeddingForward, tokenIndexBuffers, uploadTokenIndex } from '../../src/kernels/embedding';
import { layernormBackward, layernormForward } from '../../src/kernels/layernorm';
import { rmsnormBackward, rmsnormForward } from '../../src/kernels/rmsnorm';
import { type RowVariant, defaultRowVariant } from '../../src/kernels/row-reduce';
import { sample } from '../../src/kernels/sample';
import { row, timeKernel } from '../timing';

const WIDTHS = [34, 30, 14, 10, 10];

export async function benchPointwise(e: Engine, log: (line: string) => void): Promise<void> {
  log(`pointwise kernels on ${e.gpu.adapter.name} (subgroups: ${e.gpu.hasSubgroups}; default row variant: ${defaultRowVariant(e)})`);
  log(row(['kernel', 'shape', 'variant', 'ms', 'GB/s'], WIDTHS));
  const owned: Tensor[] = [];
  /** A pooled f32 tensor filled with `value` on the GPU (no upload of large random data). */
  const filled = async (shape: number[], value = 0.5) => {
    const t = e.pool.tensor(shape);
    owned.push(t);
    await fillWith(e, t, value);
    return t;
  };
  // Row kernels: every variant at the largest shapes, the adapter's default elsewhere.
  const allVariants: RowVariant[] = e.gpu.hasSubgroups ? ['serial', 'subgroups', 'workgroup'] : ['serial', 'workgroup'];
  const defaultOnly = [undefined];
  const report = async (name: string, shape: string, variant: string, bytes: number, record: () => Promise<void>, inner = 3) => {
    const t = await timeKernel(e, record, { warmup: 1, samples: 3, inner });
    log(row([name, shape, variant, t.medianMs.toFixed(3), (bytes / (t.medianMs * 1e6)).toFixed(2)], WIDTHS));
  };
  const tag = (v: RowVariant | undefined) => v ?? defaultRowVariant(e);

  const N = 2048;
  for (const C of [256, 512, 768]) {
    const inp = await filled([N, C], 0.3);
    const out = await filled([N, C]);
    const dout = await filled([N, C], 0.01);
    const dinp = await filled([N, C]);
    const up = await filled([N, C], 0.2);
    const w = await filled([C]);
    const b = await filled([C]);
    const [mean, rstd] = [await filled([N]), await filled([N], 1)];
    const dw = await filled([C]);
    const db = await filled([C]);
    const shape = `N=${N} C=${C}`;
    const nc = N * C * 4;
    for (const variant of C === 768 ? allVariants : defaultOnly) {
      await report('layernorm forward', shape, tag(variant), 2 * nc, () => layernormForward(e, inp, w, b, out, mean, rstd, { variant }));
      await report('layernorm backward (+dw, db)', shape, tag(variant), 3 * nc, () => layernormBackward(e, dout, inp, w, mean, rstd, dinp, dw, db, { variant }));
      await report('rmsnorm forward', shape, tag(variant), 2 * nc, () => rmsnormForward(e, inp, w, out, rstd, { variant }));
      await report('rmsnorm backward (+dw)', shape, tag(variant), 3 * nc, () => rmsnormBackward(e, dout, inp, w, rstd, dinp, dw, { variant }));
    }
    await report('gelu forward', shape, '', 2 * nc, () => geluForward(e, inp, out));
    await report('gelu backward', shape, '', 3 * nc, () => geluBackward(e, inp, dout, dinp));
    await report('swiglu forward', shape, '', 3 * nc, () => swigluForward(e, inp, up, out));
    await report('swiglu backward', shape, '', 5 * nc, () => swigluBackward(e, inp, up, dout, dinp, out));
    await report('residual add in place', shape, '', 3 * nc, () => addInPlace(e, out, inp));
  }

  {
    const [B, T, C, V] = [8, 256, 768, 32000];
    const tokens = Int32Array.from({ length: B * T }, (_, i) => (i * 7919) % V);
    const tok = createTensor(e.gpu, tokens, [B, T]);
    const wte = await filled([V, C]);
    const wpe = await filled([T, C]);
    const out = await filled([B, T, C]);
    const bufs = tokenIndexBuffers(e, B * T);
    const index = uploadTokenIndex(e.gpu, buildTokenIndex(tokens, V), bufs);
    const shape = `B=${B} T=${T} C=${C} V=${V}`;
    await report('embedding forward (+wpe)', shape, '', 3 * B * T * C * 4, () => embeddingForward(e, tok, wte, wpe, out));
    await report('embedding backward (accumulate)', shape, '', 4 * B * T * C * 4, () => embeddingBackward(e, out, index, wte, wpe, { accumulate: true }));
    for (const t of Object.values(bufs)) e.pool.release(t);
    tok.buffer.destroy();
  }

  for (const [Nr, V] of [[2048, 512], [512, 32000]]) {
    const logits = await filled([Nr, V], 0.1);
    const dlogits = await filled([Nr, V]);
    const targets = createTensor(e.gpu, Int32Array.from({ length: Nr }, (_, i) => (i * 31) % V), [Nr]);
    const weights = await filled([Nr], 1);
    const outs = { loss: await filled([Nr]), logprob: await filled([Nr]), entropy: await filled([Nr]) };
    for (const variant of allVariants) {
      await report('cross-entropy (+dlogits)', `N=${Nr} V=${V}`, tag(variant), 2 * Nr * V * 4, () => crossEntropy(e, logits, targets, weights, { ...outs, dlogits }, { variant, dscale: 1 / Nr }), 1);
    }
    targets.buffer.destroy();
  }

  {
    const P = 10_000_000;
    const params = await filled([P], 0.1);
    const grads = await filled([P], 1e-3);
    const m = await filled([P], 0);
    const v = await filled([P], 0);
    const norm = await filled([1]);
    const scale = await filled([1], 1);
    for (const variant of allVariants) {
      await report('grad norm', `P=${P / 1e6}M`, tag(variant), P * 4, () => gradNorm(e, grads, norm, scale, { maxNorm: 1, variant }), 1);
    }
    await report('adamw', `P=${P / 1e6}M`, '', 7 * P * 4, () => adamw(e, params, grads, m, v, scale, { lr: 1e-4, step: 10, weightDecay: 0.1 }), 1);
  }

  {
    const [B, V] = [8, 32000];
    // logits with a spread like a language model's: a few large, most small
    const logits = createTensor(e.gpu, Float32Array.from({ length: B * V }, (_, i) => 12 * Math.sin(i * 0.37) ** 9), [B, V]);
    const tokens = e.pool.tensor([B], 'i32');
    const lp = await filled([B]);
    for (const variant of allVariants) {
      for (const [what, opts] of [['greedy', { temperature: 0 }], ['T=1', { temperature: 1 }], ['T=1 top-k 50', { temperature: 1, topK: 50 }], ['T=1 top-p 0.9', { temperature: 1, topP: 0.9 }]] as const) {
        await report(`sample ${what}`, `B=${B} V=${V}`, tag(variant), B * V * 4, () => sample(e, logits, tokens, lp, { ...opts, seed: 1, step: 2, variant }), 1);
      }
    }
    logits.buffer.destroy();
    e.pool.release(tokens);
  }
  for (const t of owned) e.pool.release(t);
}
