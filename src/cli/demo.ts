// `npm run demo`: plan-tuning end to end on the embedded default model, headless, in one session.
// Evaluates the default model on held-out synthetic problems of 1-5 steps, runs plan SFT, evaluates,
// runs GRPO on answer correctness, evaluates again, exports, and prints a before/after table by
// number of plan steps and the time of each phase.
import { num, parseFlags, str } from './args';
import type { HeadlessContext } from './headless-entry';
import { TRAIN_FLAGS, accuracyTable, evalPhase, exportRun, grpoPhase, openRun, sftPhase } from './train';

const minutes = (ms: number) => `${(ms / 60000).toFixed(1)} min`;

export default async function demo(ctx: HeadlessContext): Promise<number> {
  const flags = parseFlags(ctx.args, ['eval-count', 'sft-steps', 'grpo-steps', 'seq', 'out']);
  const out = str(flags, 'out', 'out/demo');
  const sftSteps = num(flags, 'sft-steps', 55);
  const grpoSteps = num(flags, 'grpo-steps', 3);
  const t0 = performance.now();
  const phases: [string, number][] = [];
  let mark = t0;
  const done = (phase: string) => {
    const now = performance.now();
    phases.push([phase, now - mark]);
    ctx.log(`== ${phase}: ${minutes(now - mark)}`);
    mark = now;
  };

  // The first --eval-count held-out problems (1-5 steps); every one fits the default 640 tokens.
  const run = await openRun(ctx, parseFlags(
    ['--synthetic', '2000', '--eval-count', String(num(flags, 'eval-count', 32)), '--style', 'plan-then-solve', '--seq', String(num(flags, 'seq', 640)), '--batch', '4', '--eval-batch', '16'],
    TRAIN_FLAGS,
  ));
  done('load the default model and the data');
  const before = await evalPhase(ctx, run, 'default model');
  done('eval of the default model');
  ctx.log(`== plan SFT: ${sftSteps} steps of 4 packed rows of ${run.T} tokens`);
  const sft = await sftPhase(ctx, run, { steps: sftSteps, batch: 4, lr: 2e-3, pack: true });
  done('plan SFT');
  const afterSft = await evalPhase(ctx, run, '+ plan SFT');
  done('eval after plan SFT');
  ctx.log(`== GRPO: ${grpoSteps} steps of 2 prompts x 4 samples, reward = answer correctness + 0.2 plan format`);
  const grpo = await grpoPhase(ctx, run, { steps: grpoSteps, prompts: 2, G: 4, lr: 5e-5 });
  done('GRPO');
  const after = await evalPhase(ctx, run, '+ GRPO');
  done('eval after GRPO');
  await exportRun(ctx, run, `${out}/final`, { before, afterSft, after, sft, grpo, phases: Object.fromEntries(phases) });
  done('export');

  ctx.log(`== before/after on ${after.n} held-out problems (accuracy by number of plan steps)`);
  for (const line of accuracyTable([['default model', before], ['+ plan SFT', afterSft], ['+ GRPO', after]])) ctx.log(line);
  ctx.log('== time by phase');
  for (const [phase, ms] of phases) ctx.log(`${phase.padEnd(36)}${minutes(ms)}`);
  ctx.log(`demo finished in ${minutes(performance.now() - t0)}; exports in ${out}/final`);
  return 0;
}
