// pass@k on the GPU: evaluatePassAtK samples k completions per prompt (seeded, temperature 1) and
// counts the correct ones per prompt. Checked against the same completions drawn by the other
// generation path (generate.ts recomputes the sequence; evaluate uses the KV cache) and scored here.
// The task: a tiny random model over 16 ids whose "answer" is the parity of its first sampled id,
// so about half of the samples are correct and pass@k is neither 0 nor 1.
import { describe, expect, it } from 'vitest';
import type { Tokenizer } from '../../src/data/tokenizer/load';
import { tinyLlama } from '../../src/model/config';
import { generate } from '../../src/model/generate';
import { initParams } from '../../src/model/init';
import { Transformer } from '../../src/model/transformer';
import type { PromptItem } from '../../src/train/batches';
import { evaluate, evaluatePassAtK } from '../../src/train/evaluate';
import { testEngine } from '../helpers/gpu';

const e = await testEngine();

const V = 16;
/** A completion reads "#### <parity of its first id>". */
const parityTokenizer: Tokenizer = {
  encode: (text) => text.split(',').map(Number),
  decode: (ids) => (ids.length ? `#### ${ids[0] % 2}` : ''),
  bosId: 1,
  eosId: V + 5, // never sampled
  padId: 0,
  vocabSize: V,
};

describe(`pass@k on ${e.gpu.adapter.name}`, () => {
  it('counts the correct ones among k seeded samples per prompt, as the recompute path draws them', async () => {
    const model = new Transformer(e, tinyLlama({ V, C: 32, F: 48, L: 2, NH: 4, NKV: 2, maxT: 16 }), { B: 5, T: 12, train: false });
    model.params.upload(initParams(model.layout, 7, 0.5));
    const items: PromptItem[] = Array.from({ length: 6 }, (_, i) => ({ index: i, id: `p${i}`, prompt: Int32Array.from([1, 2 + i, 3 + ((5 * i) % 11)]), answer: { text: '0', value: 0 }, steps: 1 }));
    const k = 4;
    const seed = 99;
    const got = await evaluatePassAtK(model, parityTokenizer, items, { k, maxNewTokens: 3, seed });

    // The same k copies per prompt, in the same order, drawn by generate.ts: copy i samples with key row i in both paths.
    const prompts = items.flatMap((it) => Array.from({ length: k }, () => Array.from(it.prompt)));
    const gens = await generate(model, prompts, { maxNewTokens: 3, temperature: 1, seed, eosIds: [parityTokenizer.eosId], padId: 0 });
    const correct = items.map((_, p) => gens.slice(p * k, (p + 1) * k).filter((g) => g.tokens[0] % 2 === 0).length);
    const want = correct.filter((c) => c > 0).length / items.length;
    console.log(`pass@${k}: ${got.value.toFixed(3)} (correct per prompt ${got.correct.join(', ')}); greedy accuracy ${(await evaluate(model, parityTokenizer, items, { maxNewTokens: 3 })).accuracy.toFixed(3)}`);
    expect(got.correct).toEqual(correct);
    expect(got.value).toBeCloseTo(want, 12);
    expect(got.k).toBe(k);
    // Sampled, not greedy: the k copies of a prompt do not all agree, and some prompts have wrong samples.
    expect(correct.some((c) => c > 0 && c < k)).toBe(true);
    expect(got.value).toBeGreaterThan(0);

    const other = await evaluatePassAtK(model, parityTokenizer, items, { k, maxNewTokens: 3, seed: seed + 1 });
    expect(other.correct).not.toEqual(got.correct); // the seed matters
    model.destroy();
  });
});
