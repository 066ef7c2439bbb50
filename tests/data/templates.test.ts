// Rendering and reading back: render -> parse gives the same plan and answer, for every style, on the
// real data sets and the synthetic task; plus the loss mask.

import { beforeAll, describe, expect, it } from 'vitest';
import { extractFinalAnswer } from '../../src/data/answers';
import { buildLossMask } from '../../src/data/loss-mask';
import { syntheticProblems } from '../../src/data/synthetic';
import { parseCompletion, parsePrompt, renderCompletion, renderExample, renderPrompt, stepText, TEMPLATE_STYLES, type TemplateStyle } from '../../src/data/templates';
import type { PlanStep, Trajectory } from '../../src/data/trajectory';
import { importDataFile } from './helpers';

const example: Trajectory = {
  id: 'x', problemId: 'p', source: 'gsm8k-socratic',
  question: "Janet's ducks lay 16 eggs per day. How much does she make?",
  plan: [
    { subQuestion: 'How many eggs does Janet sell?', subAnswer: 'Janet sells 16 - 3 - 4 = <<16-3-4=9>>9 duck eggs a day.' },
    { subQuestion: 'How much does Janet make?', subAnswer: 'She makes 9 * 2 = $<<9*2=18>>18.' },
  ],
  solution: '', finalAnswer: { text: '18', value: 18 },
};

describe('rendering', () => {
  it('renders each style as documented', () => {
    expect(renderPrompt(example.question)).toBe("Question: Janet's ducks lay 16 eggs per day. How much does she make?\n");
    expect(renderCompletion(example, 'plan-then-solve')).toBe(
      'Plan:\n1. How many eggs does Janet sell?\n2. How much does Janet make?\nSolution:\n1. Janet sells 16 - 3 - 4 = 9 duck eggs a day.\n2. She makes 9 * 2 = $18.\n#### 18',
    );
    expect(renderCompletion(example, 'socratic')).toBe(
      'Q1: How many eggs does Janet sell?\nA1: Janet sells 16 - 3 - 4 = 9 duck eggs a day.\nQ2: How much does Janet make?\nA2: She makes 9 * 2 = $18.\n#### 18',
    );
    expect(renderCompletion(example, 'subq-only')).toBe('Q1: How many eggs does Janet sell?\nQ2: How much does Janet make?\n#### 18');
    expect(renderCompletion(example, 'direct')).toBe('#### 18');
    expect(renderCompletion(example, 'socratic', { keepAnnotations: true })).toContain('<<16-3-4=9>>9');
  });

  it('every completion ends with the final-answer line, which extractFinalAnswer reads', () => {
    for (const style of TEMPLATE_STYLES) {
      const completion = renderCompletion(example, style);
      expect(completion.split('\n').pop()).toBe('#### 18');
      expect(extractFinalAnswer(completion)).toMatchObject({ text: '18', value: 18, method: 'hash' });
    }
  });

  it('plan-then-solve falls back to the solution text when steps lack answers', () => {
    const t = { ...example, plan: [{ subQuestion: 'Find the sales.' }, { subQuestion: 'Find the money.' }], solution: 'She sells 9.\n\nShe makes $<<9*2=18>>18.\n#### 18' };
    const completion = renderCompletion(t, 'plan-then-solve');
    expect(completion).toBe('Plan:\n1. Find the sales.\n2. Find the money.\nSolution:\nShe sells 9.\nShe makes $18.\n#### 18');
    expect(parseCompletion(completion)).toMatchObject({ plan: t.plan, solution: 'She sells 9.\nShe makes $18.', style: 'plan-then-solve', wellFormedSteps: 2 });
  });

  it('parsePrompt inverts renderPrompt', () => {
    expect(parsePrompt(renderPrompt('  What is 2+2? '))).toBe('What is 2+2?');
    expect(parsePrompt('Solve: 2+2')).toBe('Solve: 2+2');
  });
});

/** The plan as the given style carries it: one-line texts; sub-answers only where the style shows them. */
function expectedPlan(plan: PlanStep[], style: TemplateStyle): PlanStep[] {
  if (style === 'direct') return [];
  const steps = plan.map((s) => ({ q: stepText(s.subQuestion), a: s.subAnswer ? stepText(s.subAnswer) : '' }));
  const withAnswers = style === 'socratic' || (style === 'plan-then-solve' && steps.every((s) => s.a));
  return steps.map((s) => (withAnswers && s.a ? { subQuestion: s.q, subAnswer: s.a } : { subQuestion: s.q }));
}

describe('round trip: render -> parseCompletion gives the same plan and answer', () => {
  const sets = new Map<string, Trajectory[]>();
  beforeAll(async () => {
    for (const path of ['gsm8k/test.jsonl', 'gsm8k/test_socratic.jsonl', 'gsm8k-ai-subq/qg_test_data_raw.jsonl', 'gsm8k-ai-subq/qg_test_dataset.jsonl', 'plan-tuning/gsm8k_test_sft.json']) {
      sets.set(path, (await importDataFile(path)).trajectories);
    }
    sets.set('synthetic', syntheticProblems({ seed: 1, count: 500 }));
  });

  it.each(TEMPLATE_STYLES)('%s', (style) => {
    let checked = 0;
    for (const [name, rows] of sets) {
      const mismatches: string[] = [];
      for (const t of rows) {
        const parsed = parseCompletion(renderCompletion(t, style));
        const samePlan = JSON.stringify(parsed.plan) === JSON.stringify(expectedPlan(t.plan, style));
        // Socratic lines without a single answer line are indistinguishable from subq-only (plain GSM8K rows whose lines have no calculator annotation).
        const expectedStyle = style === 'socratic' && t.plan.every((s) => !s.subAnswer) ? 'subq-only' : style;
        if (!samePlan || parsed.answer?.text !== t.finalAnswer.text || parsed.answer?.value !== t.finalAnswer.value || parsed.style !== expectedStyle) {
          mismatches.push(t.id);
        }
        checked++;
      }
      expect(mismatches, `${name}: ${mismatches.slice(0, 3).join(', ')}`).toEqual([]);
    }
    expect(checked).toBe(1319 * 5 + 500);
  });
});

describe('parseCompletion on model output', () => {
  it('reads partial and messy generations without throwing', () => {
    expect(parseCompletion('')).toEqual({ plan: [], solution: '', answer: undefined, style: undefined, wellFormedSteps: 0 });
    expect(parseCompletion('Q1: How many?\nA1:\nQ2: \n#### 5')).toMatchObject({ style: 'socratic', wellFormedSteps: 0, answer: { value: 5 } });
    expect(parseCompletion('Plan:\n1. a\nb\n2.\n#### x')).toMatchObject({ style: 'plan-then-solve', plan: [{ subQuestion: 'a' }], wellFormedSteps: 1, answer: { text: 'x' } });
    expect(parseCompletion('I think 12')).toMatchObject({ plan: [], style: undefined, answer: undefined });
  });
});

describe('buildLossMask', () => {
  it('masks the prompt by default; the first token is never a target', () => {
    expect(buildLossMask([1, 2, 3], [4, 5])).toEqual({ ids: Int32Array.of(1, 2, 3, 4, 5), mask: Uint8Array.of(0, 0, 0, 1, 1) });
    expect(buildLossMask([1, 2, 3], [4, 5], { trainOnPrompt: true }).mask).toEqual(Uint8Array.of(0, 1, 1, 1, 1));
    expect(buildLossMask([], [7, 8]).mask).toEqual(Uint8Array.of(0, 1));
    expect(buildLossMask([], [])).toEqual({ ids: new Int32Array(0), mask: new Uint8Array(0) });
  });

  it('works on a rendered example tokenised as bytes', () => {
    const { prompt, completion } = renderExample(example, 'socratic');
    const bytes = (s: string) => Array.from(new TextEncoder().encode(s));
    const { ids, mask } = buildLossMask(bytes(prompt), bytes(completion));
    const scored = new TextDecoder().decode(Uint8Array.from(ids.filter((_, i) => mask[i] === 1)));
    expect(scored).toBe(completion);
  });
});
