// Scored trajectories for the offline-RL row of the experiment (filtered BC, arXiv 2402.01812). The
// paper's teacher (gpt-3.5) writes sub-question trajectories, and each is scored by whether the final
// answer reached through it is correct (882 of 1,319 are, on GSM8K-AI-SubQ). Here the teacher is a
// noisy solver of the synthetic problems: it asks the same sub-questions, but each step's arithmetic
// slips with probability `slipRate` (the result off by 1..5), and a wrong value is carried into the
// later steps that use it and into the final answer. Each trajectory is then scored with
// correctnessReward on the completion the teacher wrote.
//
//   gold:    1. 7 + 5 = 12    2. 12 - 3 = 9     #### 9
//   teacher: 1. 7 + 5 = 14    2. 14 - 3 = 11    #### 11   -> answerCorrectness 0
import { correctnessReward } from '../data/rewards';
import { seededRandom } from '../data/synthetic';
import { renderCompletion } from '../data/templates';
import type { PlanStep, Trajectory } from '../data/trajectory';

const STEP = /^(\d+) ([-+*/]) (\d+) = (\d+)$/;

function apply(op: string, a: number, b: number): number {
  if (op === '+') return a + b;
  if (op === '-') return a - b;
  if (op === '*') return a * b;
  return Math.round(a / b);
}

/**
 * The teacher's version of one synthetic problem (a trajectory of src/data/synthetic.ts): the same
 * question, sub-questions and gold `finalAnswer` (the task's answer, as in every scored dataset), the
 * teacher's sub-answers and solution, its answer in `meta.generatedFinalAnswer`, and
 * `rewards.answerCorrectness`.
 */
function teach(t: Trajectory, slipRate: number, rand: () => number): Trajectory {
  // teacher's value of each earlier result, by its true value: later steps use it as an operand
  const carried = new Map<number, number>();
  const plan: PlanStep[] = t.plan.map((s, i) => {
    const m = STEP.exec(s.subAnswer ?? '');
    if (!m) throw new Error(`${t.id}: step ${i + 1} "${s.subAnswer}" is not "a op b = c" (noisyTeacher reads the synthetic task only)`);
    const [a, b, truth] = [Number(m[1]), Number(m[3]), Number(m[4])];
    const [a2, b2] = [carried.get(a) ?? a, carried.get(b) ?? b];
    const slip = rand() < slipRate ? (rand() < 0.5 ? -1 : 1) * (1 + Math.floor(rand() * 5)) : 0;
    const value = Math.max(0, apply(m[2], a2, b2) + slip);
    carried.set(truth, value);
    return { subQuestion: s.subQuestion, subAnswer: `${a2} ${m[2]} ${b2} = ${value}` };
  });
  const last = plan.at(-1)!.subAnswer!.split(' = ')[1];
  const completion = renderCompletion({ plan, solution: '', finalAnswer: { text: last, value: Number(last) } }, 'plan-then-solve');
  return {
    ...t,
    id: `${t.id}-teacher`,
    plan,
    solution: [...plan.map((s) => s.subAnswer), `#### ${last}`].join('\n'),
    rewards: { answerCorrectness: correctnessReward({ completion, gold: t.finalAnswer, style: 'plan-then-solve' }) },
    meta: { ...t.meta, generatedFinalAnswer: last, teacherSlipRate: slipRate },
  };
}

/** One noisy-teacher trajectory per synthetic problem, scored by answer correctness; seeded. */
export function noisyTeacher(problems: readonly Trajectory[], opts: { slipRate: number; seed: number }): Trajectory[] {
  if (!(opts.slipRate >= 0 && opts.slipRate <= 1)) throw new RangeError(`slip rate must be in [0, 1], got ${opts.slipRate}`);
  const rand = seededRandom(opts.seed);
  return problems.map((t) => teach(t, opts.slipRate, rand));
}
