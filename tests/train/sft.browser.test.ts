// SFT lowers the loss on held-out synthetic problems (split by problem), through the real loop:
// tokenized plan-then-solve examples, padded batches, accumulation, schedule, clipping, AdamW.
import { describe, expect, it } from 'vitest';
import { syntheticProblems } from '../../src/data/synthetic';
import { byteLevelTokenizerJson } from '../../src/data/tokenizer/byte-level';
import { loadTokenizer } from '../../src/data/tokenizer/load';
import { splitByProblem } from '../../src/data/split';
import { tinyLlama } from '../../src/model/config';
import { initParams } from '../../src/model/init';
import { Transformer } from '../../src/model/transformer';
import { tokenizeExamples } from '../../src/train/batches';
import { evalLoss } from '../../src/train/eval-loss';
import { AdamW } from '../../src/train/optimizer';
import { newSftState, runSft } from '../../src/train/sft';
import { testEngine } from '../helpers/gpu';

const e = await testEngine();

describe(`SFT on ${e.gpu.adapter.name}`, () => {
  it('lowers the held-out completion loss on synthetic planning problems', async () => {
    const tokenizer = await loadTokenizer(byteLevelTokenizerJson());
    const rows = syntheticProblems({ seed: 5, count: 240, maxSteps: 1, maxValue: 20 });
    const { train, eval: held } = splitByProblem(rows, { evalFraction: 0.2, seed: 1 });
    const T = 192;
    const opts = { style: 'plan-then-solve' as const, maxLength: T + 1 };
    const trainEx = tokenizeExamples(train, tokenizer, opts).examples;
    const evalEx = tokenizeExamples(held, tokenizer, opts).examples.slice(0, 16);
    const model = new Transformer(e, tinyLlama({ V: 260, C: 48, F: 96, L: 2, NH: 4, NKV: 2, maxT: T }), { B: 8, T });
    model.params.upload(initParams(model.layout, 2));
    const opt = new AdamW(e, model.params, model.grads!);
    const before = await evalLoss(model, evalEx, tokenizer.padId);
    await runSft(model, opt, tokenizer, trainEx, [], {
      steps: 40, batchSize: 8, gradAccum: 2, seed: 3, logEvery: 40, evalEvery: 0, evalMaxNewTokens: 0,
      schedule: { lr: 5e-3, warmupSteps: 4, decay: 'cosine' },
    }, newSftState(trainEx.length, 3));
    const after = await evalLoss(model, evalEx, tokenizer.padId);
    console.log(`held-out completion loss: ${before.toFixed(3)} -> ${after.toFixed(3)} nats/token (${trainEx.length} train, ${evalEx.length} eval problems)`);
    expect(before).toBeGreaterThan(4); // about ln(260) = 5.56 at initialisation
    expect(after).toBeLessThan(before * 0.6);
    opt.destroy();
    model.destroy();
  });
});
