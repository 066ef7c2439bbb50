// tuneModel: every matmul shape class of a real training step and the model's attention class end
// with a remembered variant, the gradients are left zeroed, and training gives the same loss after.
import { describe, expect, it } from 'vitest';
import { readF32 } from '../../src/gpu/transfer';
import { attentionClass } from '../../src/kernels/attention';
import { collectMatmulShapes, matmulClass } from '../../src/kernels/matmul';
import { forgetRememberedVariants, rememberedVariant } from '../../src/kernels/variant-cache';
import { tinyLlama } from '../../src/model/config';
import { Transformer } from '../../src/model/transformer';
import { tuneModel } from '../../src/model/tune';
import { testEngine } from '../helpers/gpu';
import { randomBatch, randomParams } from '../helpers/model-data';

const e = await testEngine();

describe('tuneModel', () => {
  it('tunes each matmul class of a training step and the attention class; grads left at zero', async () => {
    forgetRememberedVariants();
    const cfg = tinyLlama({ V: 37, C: 48, F: 56, L: 2, NH: 4, NKV: 2, maxT: 24 });
    const [B, T] = [3, 21];
    const model = new Transformer(e, cfg, { B, T });
    model.params.upload(randomParams(model.layout, 3, 0.1));
    const batch = randomBatch(B, T, cfg.V, 4);
    const step = async (): Promise<number> => {
      model.zeroGrads();
      model.setBatch(B, T, batch);
      await model.forward({ dscale: 1 });
      await model.backward();
      e.rec.submit();
      return (await readF32(e.gpu, model.tokenOutputs().loss)).reduce((a, b) => a + b, 0);
    };
    const before = await step();
    const shapes = await collectMatmulShapes(async () => void (await step()));
    expect(shapes.length).toBeGreaterThan(10); // q, k, v, o, gate, up, down, lm head: forward and backward

    const report = await tuneModel(model);
    const classes = new Set(shapes.map(matmulClass));
    expect(report.matmulClasses).toBe(classes.size);
    for (const cls of classes) expect(rememberedVariant(e, 'matmul', cls)).toBeDefined();
    expect(rememberedVariant(e, 'attention', attentionClass('train', cfg.HS, T))).toBeDefined();
    const grads = await readF32(e.gpu, model.grads!.flat);
    expect(grads.every((g) => g === 0)).toBe(true);
    expect(await step()).toBeCloseTo(before, 3);
    model.destroy();
  });
});
