// The train CLI's and the experiment's checks that come before any GPU work: flags, the hub when
// offline, the generation cap, and the experiment's rows. (Training itself: tests/train/real-models.browser.test.ts.)
import { commands } from 'vitest/browser';
import { describe, expect, it } from 'vitest';
import { parseFlags } from '../../src/cli/args';
import experiment, { ROWS } from '../../src/cli/experiment';
import type { HeadlessContext } from '../../src/cli/headless-entry';
import train, { TRAIN_FLAGS, fittedMaxNewTokens, runTraining } from '../../src/cli/train';
import type { TokenizedExample } from '../../src/train/batches';

/** The CLI's context as scripts/run-in-browser.mjs gives it: files relative to the project root; writing is not expected. */
function context(args: string[] = []) {
  const logs: string[] = [];
  const ctx: HeadlessContext = {
    args,
    log: (line) => logs.push(line),
    readFile: async (path) => Uint8Array.from(atob(await commands.readFile(path, 'base64')), (c) => c.charCodeAt(0)),
    writeFile: async () => {
      throw new Error('nothing should be written');
    },
  };
  return { ctx, logs };
}

const example = (promptLength: number, length: number): TokenizedExample => ({
  id: `x${length}`, ids: new Int32Array(length), mask: new Uint8Array(length), promptLength, answer: { text: '1' }, steps: 1,
});

describe('npm run train: before the GPU', () => {
  it('caps generation at the longest gold completion plus 10%', () => {
    expect(fittedMaxNewTokens([example(10, 110), example(50, 120), example(5, 25)])).toBe(110); // longest completion 100
    expect(fittedMaxNewTokens([example(3, 11)])).toBe(9); // 8 -> 8.8 -> 9
  });

  it('says why the flags are wrong, with the usage, and exits 2 before any GPU work', async () => {
    for (const [args, why] of [
      [['--mode', 'dpo'], /--mode must be sft, grpo or offline, got dpo/],
      [['--offline', 'best'], /--offline must be filtered or weighted, got best/],
      [['--steps', 'many'], /--steps expects a number, got "many"/],
      [['--lora-rnak', '8'], /unknown flag --lora-rnak/],
      [['--model', 'a', '--hub', 'o/b'], /give --model DIR or --hub REPO, not both/],
      [['--style', 'poem'], /--style must be plan-then-solve, socratic, subq-only or direct, got poem/],
      [['--data', 'x.jsonl', '--noisy-teacher', '0.1'], /--noisy-teacher rewrites the synthetic problems; it does not apply to --data files/],
      [['--seq', '4096'], /--seq 4096 is longer than the model's context \(640\)/],
    ] as [string[], RegExp][]) {
      const { ctx, logs } = context(args);
      expect(await train(ctx), args.join(' ')).toBe(2);
      expect(logs.join('\n')).toMatch(why);
      expect(logs.join('\n')).toMatch(/usage: npm run train/);
      expect(logs.join('\n')).not.toMatch(/adapter:/);
    }
  });

  it('--hub offline: the hub error names the URL and says offline, before any GPU work', async () => {
    const { ctx } = context();
    const offline = async () => {
      throw new TypeError('fetch failed');
    };
    await expect(runTraining(ctx, parseFlags(['--hub', 'HuggingFaceTB/SmolLM2-135M'], TRAIN_FLAGS), { fetch: offline })).rejects.toThrow(
      /could not reach https:\/\/huggingface\.co\/HuggingFaceTB\/SmolLM2-135M\/resolve\/main\/config\.json: offline\?/,
    );
    await expect(runTraining(ctx, parseFlags(['--hub', 'not a repo'], TRAIN_FLAGS), { fetch: offline })).rejects.toThrow(/is not a Hugging Face repo id/);
  });
});

describe('npm run experiment', () => {
  it('gives (a), (b) and (d) the same SFT budget and eval set, and (c) starts from (b)', () => {
    const value = (flags: string[], name: string) => flags[flags.indexOf(`--${name}`) + 1];
    for (const name of ['steps', 'batch', 'lr', 'seq', 'eval-count', 'synthetic']) {
      expect(new Set(['a', 'b', 'd'].map((r) => value(ROWS[r].flags, name))).size, name).toBe(1);
    }
    expect(value(ROWS.a.flags, 'style')).toBe('direct');
    expect(value(ROWS.d.flags, 'mode')).toBe('offline');
    expect(value(ROWS.c.flags, 'model')).toBe('out/experiment/b');
    for (const r of Object.values(ROWS)) expect(() => parseFlags(r.flags, TRAIN_FLAGS)).not.toThrow();
  });

  it('refuses an unknown row, and row c before row b has run', async () => {
    const unknown = context(['--row', 'z']);
    expect(await experiment(unknown.ctx)).toBe(2);
    expect(unknown.logs.join('\n')).toMatch(/--row must be one of a, b, c, d \(or --table\), got "z"/);
    const early = context(['--row', 'c']);
    early.ctx.readFile = async (path) => {
      throw new Error(`ENOENT: no such file ${path}`); // row b has not run
    };
    expect(await experiment(early.ctx)).toBe(2);
    expect(early.logs.join('\n')).toMatch(/row c starts from row b's model: run `npm run experiment -- --row b` first/);
  });
});
