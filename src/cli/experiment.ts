// `npm run experiment -- --row a|b|c|d`: the README's experiment, the two papers in miniature on the
// default model. Every row is evaluated on the same first 100 held-out synthetic problems (1-5 steps,
// all of which fit the 640-token context), greedy, and reported by number of plan steps.
//   (a) direct-answer SFT          (b) plan SFT (plan-then-solve)
//   (c) (b) + GRPO on answer correctness
//   (d) filtered BC (offline RL): plan SFT on the noisy teacher's trajectories that reach the right answer
// (a), (b) and (d) get the same SFT budget (steps x batch, learning rate). Each row is one
// `npm run train` run (the command is printed); its result goes to out/experiment/<row>/result.json,
// and `npm run experiment -- --table` prints the README's table from those files.
import { UsageError, parseFlags, str } from './args';
import type { HeadlessContext } from './headless-entry';
import { TRAIN_FLAGS, runTraining } from './train';
import type { EvalResult } from '../train/evaluate';

const OUT = 'out/experiment';
const EVAL = ['--synthetic', '2000', '--eval-count', '100', '--seq', '640', '--batch', '8', '--eval-batch', '16'];
const SFT = [...EVAL, '--steps', '150', '--lr', '2e-3'];

interface Row {
  label: string;
  flags: string[];
  /** A row whose model is another row's output. */
  from?: string;
}

export const ROWS: Record<string, Row> = {
  a: { label: '(a) direct-answer SFT', flags: [...SFT, '--mode', 'sft', '--style', 'direct'] },
  b: { label: '(b) plan SFT', flags: [...SFT, '--mode', 'sft', '--style', 'plan-then-solve'] },
  c: {
    label: '(c) plan SFT + GRPO',
    from: 'b',
    flags: [...EVAL, '--model', `${OUT}/b`, '--mode', 'grpo', '--style', 'plan-then-solve', '--steps', '12', '--prompts', '4', '--G', '8', '--lr', '1e-4', '--skip-eval-before'],
  },
  d: { label: '(d) filtered BC on a noisy teacher', flags: [...SFT, '--mode', 'offline', '--offline', 'filtered', '--noisy-teacher', '0.13', '--style', 'plan-then-solve'] },
};

interface RowResult {
  row: string;
  label: string;
  command: string;
  minutes: number;
  before: EvalResult | null;
  after: EvalResult;
}

const trimmed = (r: EvalResult | null) => r && { ...r, samples: r.samples.slice(0, 20) };

function cell(r: EvalResult, steps?: number): string {
  const [n, c] = steps === undefined ? [r.n, r.correct] : (r.bySteps[steps] ?? [0, 0]);
  return n ? `${c}/${n}` : '-';
}

/** The README table: one line per row found in out/experiment, plus the default model before any tuning. */
async function table(ctx: HeadlessContext): Promise<void> {
  const results: RowResult[] = [];
  for (const row of Object.keys(ROWS)) {
    try {
      results.push(JSON.parse(new TextDecoder().decode(await ctx.readFile(`${OUT}/${row}/result.json`))) as RowResult);
    } catch {
      ctx.log(`(no result for row ${row} yet: npm run experiment -- --row ${row})`);
    }
  }
  const steps = [1, 2, 3, 4, 5];
  const pct = (r: EvalResult) => `${((100 * r.correct) / r.n).toFixed(1)}% (${r.correct}/${r.n})`;
  ctx.log(`| row | accuracy | ${steps.map((k) => `${k} step${k > 1 ? 's' : ''}`).join(' | ')} | time | command |`);
  ctx.log(`|---|---|${steps.map(() => '---').join('|')}|---|---|`);
  const base = results.find((r) => r.before);
  if (base?.before) ctx.log(`| default model, no tuning | ${pct(base.before)} | ${steps.map((k) => cell(base.before!, k)).join(' | ')} | - | (the 'before' eval of row ${base.row}) |`);
  for (const r of results) ctx.log(`| ${r.label} | ${pct(r.after)} | ${steps.map((k) => cell(r.after, k)).join(' | ')} | ${r.minutes.toFixed(0)} min | \`${r.command}\` |`);
}

export default async function experiment(ctx: HeadlessContext): Promise<number> {
  try {
    const flags = parseFlags(ctx.args, ['row', 'table']);
    if (flags.has('table')) {
      await table(ctx);
      return 0;
    }
    const key = str(flags, 'row', '');
    const row = ROWS[key];
    if (!row) throw new UsageError(`--row must be one of ${Object.keys(ROWS).join(', ')} (or --table), got "${key}"`);
    if (row.from) {
      try {
        await ctx.readFile(`${OUT}/${row.from}/config.json`);
      } catch {
        throw new UsageError(`row ${key} starts from row ${row.from}'s model: run \`npm run experiment -- --row ${row.from}\` first`);
      }
    }
    const args = [...row.flags, '--out', `${OUT}/${key}`];
    const command = `npm run experiment -- --row ${key}`;
    ctx.log(`${row.label}: ${command}, i.e. npm run train -- ${args.join(' ')}`);
    const t0 = performance.now();
    const { before, after } = await runTraining(ctx, parseFlags(args, TRAIN_FLAGS));
    const result: RowResult = { row: key, label: row.label, command, minutes: (performance.now() - t0) / 60000, before: trimmed(before), after: trimmed(after)! };
    await ctx.writeFile(`${OUT}/${key}/result.json`, JSON.stringify(result, null, 2));
    ctx.log(`${row.label}: accuracy ${(100 * after.accuracy).toFixed(1)}% (${after.correct}/${after.n}) after ${result.minutes.toFixed(1)} min; wrote ${OUT}/${key}/result.json`);
    return 0;
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    ctx.log(`${e.message}\nusage: npm run experiment -- --row a|b|c|d   or   npm run experiment -- --table`);
    return 2;
  }
}
