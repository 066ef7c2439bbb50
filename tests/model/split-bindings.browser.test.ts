// A whole tiny model under a forced binding limit of 8 KiB: its embedding table / LM head (200 x 32),
// logits (22 x 200) and flat parameter, gradient and moment buffers all exceed it and are split;
// everything else fits. The loss and every parameter gradient equal the unsplit run (relative error
// < 1e-5) and the float64 reference (1e-4); an AdamW step equals the unsplit one; generation with
// and without the KV cache gives the same tokens. The recorder refuses any binding above the
// limit, so a passing run proves that nothing oversized was bound.
import { afterEach, describe, expect, it } from 'vitest';
import { BindingTooLargeError } from '../../src/gpu/errors';
import { byteLength } from '../../src/gpu/tensor';
import { readF32 } from '../../src/gpu/transfer';
import { type ModelConfig, tinyGpt2, tinyLlama } from '../../src/model/config';
import { generate } from '../../src/model/generate';
import { generateWithCache } from '../../src/model/generate-cached';
import type { TensorSpec } from '../../src/model/param-layout';
import { Transformer } from '../../src/model/transformer';
import { AdamW, DEFAULT_ADAMW } from '../../src/train/optimizer';
import { compareClose } from '../helpers/allclose';
import { testEngine } from '../helpers/gpu';
import { randomBatch, randomParams } from '../helpers/model-data';
import { randInt, rng } from '../helpers/random';
import { refForwardBackward } from '../reference/model';

const e = await testEngine();
afterEach(() => {
  e.bindingLimit = null;
});

const LIMIT = 8192;

const cases: { name: string; cfg: ModelConfig }[] = [
  { name: 'llama untied', cfg: tinyLlama({ V: 200, C: 32, F: 48, L: 2, NH: 4, NKV: 2, maxT: 16 }) },
  { name: 'llama tied', cfg: tinyLlama({ V: 200, C: 32, F: 48, L: 2, NH: 4, NKV: 2, maxT: 16, tied: true }) },
  { name: 'gpt2', cfg: tinyGpt2({ V: 200, C: 32, F: 64, L: 2, NH: 4, maxT: 16 }) },
];
const [B, T] = [2, 11];

/** Runs `fn` with the binding limit forced to LIMIT (after submitting earlier work), then restores it. */
async function limited<R>(fn: () => Promise<R>): Promise<R> {
  e.rec.submit();
  e.bindingLimit = LIMIT;
  try {
    return await fn();
  } finally {
    e.bindingLimit = null;
  }
}

/** Per-tensor comparison; a gradient that is ~0 in exact arithmetic (GPT-2's key bias) is compared in absolute terms. */
function mismatches(got: Float32Array, want: ArrayLike<number>, specs: readonly TensorSpec[], tol: number): string[] {
  let scale = 0;
  for (let i = 0; i < want.length; i++) scale = Math.max(scale, Math.abs(want[i]));
  const out: string[] = [];
  for (const s of specs) {
    const r = compareClose(got.subarray(s.offset, s.offset + s.size), Array.prototype.slice.call(want, s.offset, s.offset + s.size), { tol });
    if (!r.pass && !(r.nonFinite === 0 && r.maxAbs < 1e-6 * scale)) out.push(`${s.name}: ${r.message}`);
  }
  return out;
}

describe(`a model under a forced ${LIMIT}-byte binding limit on ${e.gpu.adapter.name}`, () => {
  for (const c of cases) {
    it(`${c.name}: loss, every gradient and an AdamW step equal the unsplit run`, async () => {
      const model = new Transformer(e, c.cfg, { B, T });
      const params = randomParams(model.layout, 51);
      const batch = randomBatch(B, T, c.cfg.V, 52, { negativeWeights: true });
      const D = batch.weights.filter((w) => w !== 0).length;
      // what must be split: the table / LM head, the logits and the flat buffers
      const head = model.params.get(c.cfg.tiedEmbeddings ? 'wte' : 'lm_head.w');
      for (const t of [model.params.get('wte'), head, model.params.flat]) expect(byteLength(t), t.label).toBeGreaterThan(LIMIT);
      expect(B * T * c.cfg.V * 4).toBeGreaterThan(LIMIT);

      const step = async () => {
        model.params.upload(params);
        model.zeroGrads();
        model.setBatch(B, T, batch);
        await model.forward({ dscale: 1 / D });
        await model.backward();
        e.rec.submit();
        return { loss: await readF32(e.gpu, model.tokenOutputs().loss), grads: await readF32(e.gpu, model.grads!.flat) };
      };
      const whole = await step();
      const split = await limited(step);
      expect(split.loss).toAllClose(whole.loss);
      expect(mismatches(split.grads, whole.grads, model.layout.tensors, 1e-5)).toEqual([]);

      const ref = refForwardBackward(model.layout, Float64Array.from(params), { B, T, ...batch });
      const loss = split.loss.reduce((a, b) => a + b, 0) / D;
      expect(Math.abs(loss - ref.loss) / Math.abs(ref.loss)).toBeLessThan(1e-4);
      expect(mismatches(split.grads, ref.grads, model.layout.tensors, 1e-4)).toEqual([]);

      // two AdamW steps from the same parameters and gradients (the split run's, still in model.grads)
      const adamStep = async () => {
        model.params.upload(params);
        const opt = new AdamW(e, model.params, model.grads!, { ...DEFAULT_ADAMW, maxGradNorm: 0.5 });
        await opt.step(1e-2, 1);
        await opt.step(1e-2, 2);
        e.rec.submit();
        const out = { params: await readF32(e.gpu, model.params.flat), m: await readF32(e.gpu, opt.m), norm: await readF32(e.gpu, opt.norm) };
        opt.destroy();
        return out;
      };
      const adamWhole = await adamStep();
      const adamSplit = await limited(adamStep);
      expect(adamSplit.norm).toAllClose(adamWhole.norm);
      expect(adamSplit.params).toAllClose(adamWhole.params);
      expect(adamSplit.m).toAllClose(adamWhole.m);
      expect(compareClose(adamSplit.params, params).relErr, 'the step changed the parameters').toBeGreaterThan(1e-4);
      model.destroy();
    });

    it(`${c.name}: an activation that cannot be split is a BindingTooLargeError naming it and the limit`, async () => {
      const model = new Transformer(e, c.cfg, { B, T, train: false });
      model.setBatch(B, T, randomBatch(B, T, c.cfg.V, 53));
      e.rec.submit();
      e.bindingLimit = 2048; // the residual stream (2 x 11 x 32 floats = 2816 bytes) no longer fits
      const err = await model.forward().then(() => null, (x: unknown) => x);
      e.bindingLimit = null;
      expect(err).toBeInstanceOf(BindingTooLargeError);
      expect((err as Error).message).toMatch(/embedding_forward.*: binding 4, h\.0\.res \[2,11,32\] f32, needs 2816 bytes in one storage binding, more than this adapter's limit of 2048 bytes/);
      e.rec.submit();
      model.destroy();
    });

    it(`${c.name}: generation with the KV cache and by recomputation gives the same tokens`, async () => {
      const model = new Transformer(e, c.cfg, { B, T, train: false });
      model.params.upload(randomParams(model.layout, 61, 0.3));
      const r = rng(62);
      const prompts = [3, 5, 1].map((n) => Array.from({ length: n }, () => randInt(r, 1, c.cfg.V - 1)));
      for (const opts of [{ maxNewTokens: 6 }, { maxNewTokens: 6, temperature: 1, topK: 20, seed: 9 }]) {
        const cached = await generateWithCache(model, prompts, opts);
        const cachedSplit = await limited(() => generateWithCache(model, prompts, opts));
        const recomputedSplit = await limited(() => generate(model, prompts, opts));
        expect(cachedSplit.map((g) => g.tokens)).toEqual(cached.map((g) => g.tokens));
        expect(recomputedSplit.map((g) => g.tokens)).toEqual(cached.map((g) => g.tokens));
        for (const [i, g] of cachedSplit.entries()) {
          expect(g.logprobs, `row ${i} log-probs`).toAllClose(cached[i].logprobs, { tol: 1e-5 });
          expect(recomputedSplit[i].logprobs, `row ${i} log-probs`).toAllClose(cached[i].logprobs, { tol: 1e-4 });
        }
      }
      expect(new Set(
        (await generateWithCache(model, prompts, { maxNewTokens: 6 })).flatMap((g) => g.tokens),
      ).size, 'not a degenerate model').toBeGreaterThan(3);
      model.destroy();
    });
  }
});
