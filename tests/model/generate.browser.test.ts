// KV-cache generation against the recompute path (generate.ts): the same tokens and log-probs,
// greedy and seeded sampling, on prompts of different lengths; stop rules; and a speed print.
import { describe, expect, it } from 'vitest';
import { type ModelConfig, tinyGpt2, tinyLlama } from '../../src/model/config';
import { type GenerateOptions, type Generation, generate } from '../../src/model/generate';
import { generateWithCache } from '../../src/model/generate-cached';
import type { LoraSpec } from '../../src/model/param-layout';
import { Transformer } from '../../src/model/transformer';
import { testEngine } from '../helpers/gpu';
import { randomLora, randomParams } from '../helpers/model-data';
import { randInt, rng } from '../helpers/random';

const e = await testEngine();

interface Case {
  name: string;
  cfg: ModelConfig;
  /** Batch capacity (prompts beyond it go in a second chunk) and sequence cap. */
  B: number;
  T: number;
  lora?: LoraSpec;
  /** Sequences the KV-cache path decodes at once (prefilled B at a time); default B. */
  genB?: number;
}

const cases: Case[] = [
  { name: 'llama GQA', cfg: tinyLlama({ V: 37, C: 32, F: 40, L: 2, NH: 4, NKV: 2, maxT: 32 }), B: 3, T: 24 },
  { name: 'gpt2', cfg: tinyGpt2({ V: 41, C: 32, F: 64, L: 2, NH: 4, maxT: 32 }), B: 3, T: 24 },
  { name: 'llama LoRA q,k,v,down', cfg: tinyLlama({ V: 37, C: 32, F: 40, L: 2, NH: 4, NKV: 2, maxT: 32 }), B: 3, T: 24, lora: { rank: 4, alpha: 8, targets: ['q_proj', 'k_proj', 'v_proj', 'down_proj'] } },
  // The cached path decodes 3 then 1 (prefilling 2 then 1, then 1) while the recompute path runs 2 and 2:
  // prompt i keeps its sampling key however the prompts are grouped.
  { name: 'llama GQA, 3 decoded at once, batch 2', cfg: tinyLlama({ V: 37, C: 32, F: 40, L: 2, NH: 4, NKV: 2, maxT: 32 }), B: 2, T: 24, genB: 3 },
  { name: 'gpt2 LoRA, 4 decoded at once, batch 1', cfg: tinyGpt2({ V: 41, C: 32, F: 64, L: 2, NH: 4, maxT: 32 }), B: 1, T: 24, genB: 4, lora: { rank: 2, alpha: 4, targets: ['c_attn', 'c_fc'] } },
];

function makeModel(c: Case): Transformer {
  const model = new Transformer(e, c.cfg, { B: c.B, T: c.T, lora: c.lora, train: false, genB: c.genB });
  model.params.upload(randomParams(model.layout, 21, 0.3));
  if (c.lora) model.loraParams!.upload(randomLora(model.layout, 22));
  return model;
}

/** Prompts of the given lengths, random ids (never 0, the pad id). */
function prompts(V: number, lengths: number[], seed: number): number[][] {
  const r = rng(seed);
  return lengths.map((n) => Array.from({ length: n }, () => randInt(r, 1, V - 1)));
}

function expectSame(cached: Generation[], recomputed: Generation[]): void {
  expect(cached.map((g) => [g.tokens, g.finish])).toEqual(recomputed.map((g) => [g.tokens, g.finish]));
  for (const [i, g] of cached.entries()) {
    const maxDiff = Math.max(0, ...g.logprobs.map((lp, j) => Math.abs(lp - recomputed[i].logprobs[j])));
    expect(maxDiff, `row ${i} log-probs`).toBeLessThan(1e-4);
  }
}

async function both(model: Transformer, ps: number[][], opts: GenerateOptions): Promise<Generation[]> {
  const recomputed = await generate(model, ps, opts);
  const cached = await generateWithCache(model, ps, opts);
  expectSame(cached, recomputed);
  return cached;
}

describe(`KV-cache generation vs recompute on ${e.gpu.adapter.name}`, () => {
  for (const c of cases) {
    describe(c.name, () => {
      // 4 prompts for a capacity of 3: two chunks; lengths 1..9, and one that hits the cap T.
      const ps = prompts(c.cfg.V, [5, 1, 9, 3], 31);

      it('greedy: same tokens and log-probs (1e-4)', async () => {
        const model = makeModel(c);
        const gens = await both(model, ps, { maxNewTokens: 12 });
        for (const g of gens) expect([g.tokens.length, g.finish]).toEqual([12, 'length']);
        expect(new Set(gens.flatMap((g) => g.tokens)).size).toBeGreaterThan(3); // not a degenerate model
        if (c.lora) {
          model.loraEnabled = false; // the base model (the RL reference policy)
          const base = await both(model, ps, { maxNewTokens: 12 });
          expect(base.map((g) => g.tokens)).not.toEqual(gens.map((g) => g.tokens));
        }
        model.destroy();
      });

      it('seeded sampling (temperature 1, top-k, top-p): same tokens', async () => {
        const model = makeModel(c);
        for (const opts of [{ temperature: 1, seed: 5 }, { temperature: 1, topK: 8, seed: 6 }, { temperature: 0.8, topP: 0.9, seed: 7 }, { temperature: 1, topK: 12, topP: 0.8, seed: 8 }]) {
          const gens = await both(model, ps, { maxNewTokens: 10, ...opts });
          for (const g of gens) expect(g.logprobs.every((lp) => lp <= 0 && Number.isFinite(lp))).toBe(true);
        }
        model.destroy();
      });

      it('stops on EOS, stop strings, max new tokens and the sequence cap', async () => {
        const model = makeModel(c);
        const free = await generateWithCache(model, ps, { maxNewTokens: 8 });
        // EOS: the 4th greedy token of row 0 ends it (earlier occurrences end it earlier, in any row).
        const eos = free[0].tokens[3];
        const byEos = await both(model, ps, { maxNewTokens: 8, eosIds: [eos] });
        for (const [i, g] of byEos.entries()) {
          const at = free[i].tokens.indexOf(eos);
          expect(g.tokens).toEqual(at < 0 ? free[i].tokens : free[i].tokens.slice(0, at));
          expect(g.finish).toBe(at < 0 ? 'length' : 'eos');
        }
        expect(byEos[0].finish).toBe('eos');
        // Stop string: the decoded text (ids joined) contains row 1's 3rd token id, delimited.
        const decode = (ids: number[]) => ids.map((id) => `<${id}>`).join('');
        const stop = `<${free[1].tokens[2]}>`;
        const byStop = await both(model, ps, { maxNewTokens: 8, stopStrings: [stop], decode });
        expect(byStop[1].finish).toBe('stop');
        expect(decode(byStop[1].tokens).endsWith(stop)).toBe(true);
        // Max new tokens, and the cap: a prompt of T - 2 tokens gets 2.
        const capped = await both(model, [ps[0], prompts(c.cfg.V, [c.T - 2], 41)[0]], { maxNewTokens: 3 });
        expect(capped.map((g) => [g.tokens.length, g.finish])).toEqual([[3, 'length'], [2, 'length']]);
        expect(await generateWithCache(model, ps, { maxNewTokens: 0 })).toEqual(ps.map(() => ({ tokens: [], logprobs: [], finish: 'length' })));
        model.destroy();
      });
    });
  }

  it('prints decode tokens/s of both paths (L=4, C=128, T=128, B=8)', async () => {
    const c: Case = { name: 'speed', cfg: tinyLlama({ V: 256, C: 128, F: 344, L: 4, NH: 4, NKV: 2, maxT: 128 }), B: 8, T: 128 };
    const model = makeModel(c);
    const ps = prompts(c.cfg.V, [16, 24, 20, 32, 18, 28, 22, 30], 51);
    const N = 24;
    const time = async (run: typeof generate, maxNewTokens: number) => {
      const t0 = performance.now();
      const gens = await run(model, ps, { maxNewTokens });
      return { s: (performance.now() - t0) / 1000, gens };
    };
    for (const run of [generate, generateWithCache]) await time(run, 2); // compile the pipelines
    const rate = async (run: typeof generate) => {
      const [one, many] = [await time(run, 1), await time(run, N)];
      return { decode: (c.B * (N - 1)) / (many.s - one.s), prefill: one.s, gens: many.gens };
    };
    const recompute = await rate(generate);
    const cached = await rate(generateWithCache);
    expectSame(cached.gens, recompute.gens);
    console.log(
      `decode tokens/s on ${e.gpu.adapter.name} (B=${c.B}, prompts 16..32, ${N} new tokens): ` +
        `KV cache ${cached.decode.toFixed(1)} (prefill + first token ${(cached.prefill * 1000).toFixed(0)} ms), ` +
        `recompute ${recompute.decode.toFixed(1)} (${(recompute.prefill * 1000).toFixed(0)} ms); speed-up ${(cached.decode / recompute.decode).toFixed(1)}x`,
    );
    expect(cached.decode).toBeGreaterThan(0);
    model.destroy();
  });
});
