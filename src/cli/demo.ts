// `npm run demo`: plan-tuning end to end on the embedded default model, headless.
// Evaluates the default model on held-out synthetic problems, runs plan SFT, then GRPO on answer
// correctness, evaluates again, exports, and prints a before/after table by number of plan steps.
import { num, parseFlags, str } from './args';
import type { HeadlessContext } from './headless-entry';
import { accuracyTable, runTraining } from './train';

export default async function demo(ctx: HeadlessContext): Promise<number> {
  const flags = parseFlags(ctx.args, ['eval-count', 'sft-steps', 'grpo-steps', 'out']);
  const out = str(flags, 'out', 'out/demo');
  const evalCount = String(num(flags, 'eval-count', 30));
  const t0 = performance.now();
  const common = ['--eval-count', evalCount, '--style', 'plan-then-solve', '--max-new-tokens', '160', '--seq', '320'];
  ctx.log('== 1/2 plan SFT on synthetic planning trajectories (default model)');
  const sft = await runTraining(ctx, parseFlags(
    [...common, '--mode', 'sft', '--synthetic', '2000', '--steps', String(num(flags, 'sft-steps', 150)), '--batch', '8', '--lr', '2e-3', '--out', `${out}/sft`],
    ['eval-count', 'style', 'max-new-tokens', 'seq', 'mode', 'synthetic', 'steps', 'batch', 'lr', 'out'],
  ));
  ctx.log('== 2/2 GRPO on final-answer correctness (from the SFT model)');
  const grpo = await runTraining(ctx, parseFlags(
    [...common, '--model', `${out}/sft`, '--mode', 'grpo', '--synthetic', '2000', '--steps', String(num(flags, 'grpo-steps', 6)), '--batch', '8', '--prompts', '4', '--G', '4', '--lr', '5e-5', '--skip-eval-before', '--out', `${out}/final`],
    ['eval-count', 'style', 'max-new-tokens', 'seq', 'model', 'mode', 'synthetic', 'steps', 'batch', 'prompts', 'G', 'lr', 'skip-eval-before', 'out'],
  ));
  ctx.log(`== before/after on ${sft.after.n} held-out problems that fit the sequence length (accuracy by number of plan steps)`);
  for (const line of accuracyTable([['default model', sft.before!], ['+ plan SFT', sft.after], ['+ GRPO', grpo.after]])) ctx.log(line);
  ctx.log(`demo finished in ${((performance.now() - t0) / 60000).toFixed(1)} min; exports in ${out}/final`);
  return 0;
}
