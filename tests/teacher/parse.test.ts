import { describe, expect, it } from 'vitest';
import { parseExecutedSteps, parseJudgeScore, parsePlanSteps, parseSubAnswers, parseSubQuestions } from '../../src/teacher/parse';
import { DEFAULT_PROMPTS, fillTemplate, promptHash, renderPrompt, validatePrompts, withPrompts } from '../../src/teacher/prompts';
import { goldFrom, parseQuestionsJsonl } from '../../src/teacher/questions';

describe('parseJudgeScore', () => {
  const cases: [string, number | undefined][] = [
    ['Good plan.\nScore: 85', 85],
    ['**Score:** -20', -20],
    ['score = 70/100', 70],
    ['Score: 7/10', 70],
    ['Final score of 42.', 42],
    ['Score (from -100 to 100): 64', 64],
    ['I would rate it on a score from -100 to 100.\nScore: 55', 55],
    ['Score: \u221230', -30],
    ['{"reason": "ok", "score": 91}', 91],
    ['Verdict: [[33]]', 33],
    ['The plan misses the unit conversion.\n-45', -45],
    ['Score: 80\n...on reflection...\nScore: 60', 60],
    ['Score: 150', undefined],
    ['Score: -100 to 100', undefined],
    ['A fine plan, nothing more to say.', undefined],
    ['', undefined],
  ];
  it.each(cases)('%j -> %s', (text, expected) => {
    expect(parseJudgeScore(text)?.score).toBe(expected);
  });

  it('accepts the ends of the range', () => {
    expect(parseJudgeScore('Score: 100')?.score).toBe(100);
    expect(parseJudgeScore('Score: -100')?.score).toBe(-100);
  });
});

describe('reading lists', () => {
  it('reads plan steps in their usual spellings and joins continuation lines', () => {
    const text = 'Here is my plan:\n**Step 1:** Find the eggs left\n  after breakfast.\nStep 2. Multiply by the price.\n3) State the total.';
    expect(parsePlanSteps(text)).toEqual(['Find the eggs left after breakfast.', 'Multiply by the price.', 'State the total.']);
    expect(parsePlanSteps('<plan>\n1. a\n2. b\n</plan>')).toEqual(['a', 'b']);
    expect(parsePlanSteps('- first\n- second')).toEqual(['first', 'second']);
    expect(parsePlanSteps('Just solve it.')).toEqual([]);
  });

  it('reads sub-questions, their answers and the executed steps, stopping at the final answer', () => {
    const qs = 'Q1: How many eggs are left?\nQ2: How much money is that?';
    expect(parseSubQuestions(qs)).toEqual(['How many eggs are left?', 'How much money is that?']);
    expect(parseSubQuestions('1. How many?\n2. How much?')).toEqual(['How many?', 'How much?']);
    expect(parseSubQuestions('**Q1.** a\n**Q2.** b')).toEqual(['a', 'b']);
    const as = 'A1: 16-3-4=9 eggs.\nA2: 9*2=18 dollars.\n\nFinal answer: 18';
    expect(parseSubAnswers(as)).toEqual(['16-3-4=9 eggs.', '9*2=18 dollars.']);
    expect(parseExecutedSteps('Step 1: 16-3-4 = 9\nso 9 eggs.\nStep 2: 9*2 = 18\nFinal answer: 18')).toEqual(['16-3-4 = 9 so 9 eggs.', '9*2 = 18']);
  });
});

describe('prompt templates', () => {
  it('fills {question} and {plan} in one pass, leaving other braces and placeholders inside values alone', () => {
    expect(fillTemplate('Q: {question}\nP: {plan}\nJSON: {"score": n}', { question: 'Is {plan} here?', plan: 'Step 1: x' })).toBe(
      'Q: Is {plan} here?\nP: Step 1: x\nJSON: {"score": n}',
    );
    const msgs = renderPrompt(DEFAULT_PROMPTS.judge, { question: 'q?', plan: 'Step 1: a' });
    expect(msgs.map((m) => m.role)).toEqual(['system', 'user']);
    expect(msgs[1].content).toContain('Problem: q?\n\nPlan:\nStep 1: a\n\n');
  });

  it('validates edits, and hashes the text so edited prompts are told apart', () => {
    expect(validatePrompts(DEFAULT_PROMPTS)).toEqual([]);
    const edited = withPrompts({ version: 'mine-1', judge: { user: 'Rate {plan}' } });
    expect(validatePrompts(edited)).toEqual(['prompt "judge" must contain {question}']);
    expect(edited.plan).toEqual(DEFAULT_PROMPTS.plan);
    expect(edited.judge.system).toBe(DEFAULT_PROMPTS.judge.system);
    expect(promptHash(edited)).not.toBe(promptHash(DEFAULT_PROMPTS));
    expect(promptHash(withPrompts({ version: 'other' }))).toBe(promptHash(DEFAULT_PROMPTS));
  });
});

describe('question files', () => {
  it('reads GSM8K rows with their gold answers and lists bad rows by line', () => {
    const text = [
      JSON.stringify({ question: 'Q one?', answer: 'Some work <<2*3=6>>.\n#### 1,080' }),
      '',
      '{not json',
      JSON.stringify({ question: 'Q two?' }),
      JSON.stringify({ problem: 'Q three?', answer: 'no number here' }),
      JSON.stringify({ question: 'Q four?', true_answer: 18.0 }),
    ].join('\n');
    const { questions, rejected } = parseQuestionsJsonl(text);
    expect(questions.map((q) => [q.index, q.question, q.gold])).toEqual([
      [0, 'Q one?', { text: '1,080', value: 1080 }],
      [4, 'Q four?', { text: '18', value: 18 }],
    ]);
    expect(questions[0].problemId).toMatch(/^p[0-9a-f]{16}$/);
    expect(rejected.map((r) => r.line)).toEqual([3, 4, 5]);
    expect(rejected[1].reason).toMatch(/no "answer"/);
    expect(goldFrom('72')).toEqual({ text: '72', value: 72 });
  });
});
