// Per-format parsing details, detection, and problem identity, on small hand-written rows.

import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { describeUnknownRecord, detectFormat } from '../../src/data/detect';
import { FORMAT_PARSERS } from '../../src/data/formats';
import { aiSubqRaw } from '../../src/data/formats/ai-subq-raw';
import { aiSubqDataset } from '../../src/data/formats/ai-subq-dataset';
import { gsm8k } from '../../src/data/formats/gsm8k';
import { planStepsFromText, planTuning } from '../../src/data/formats/plan-tuning';
import { plantune, toPlantuneLine } from '../../src/data/formats/plantune';
import { toTrlRecord, trlMessages, trlPromptCompletion } from '../../src/data/formats/trl';
import { normalizeQuestion, problemIdFor, questionParts } from '../../src/data/problem-id';
import { isRowRejection, RowRejection } from '../../src/data/rejection';
import type { Trajectory } from '../../src/data/trajectory';
import { importFile } from '../../src/data/validate';
import { importDataFile } from './helpers';

const ctx = { file: 'f.jsonl', line: 3 };

function ok(result: Trajectory | RowRejection): Trajectory {
  if (isRowRejection(result)) throw new Error(`rejected: ${result.code}: ${result.reason}`);
  return result;
}

describe('gsm8k', () => {
  it('one statement-step per line; sub-answer = the calculator result', () => {
    const t = ok(gsm8k.parse({ question: ' Q? ', answer: 'She sold 48/2 = <<48/2=24>>24.\n\nIf x is 8x, fine\n#### 1,080' }, ctx));
    expect(t).toMatchObject({
      id: 'f.jsonl:3',
      question: 'Q?',
      plan: [{ subQuestion: 'She sold 48/2 = <<48/2=24>>24.', subAnswer: '24' }, { subQuestion: 'If x is 8x, fine' }],
      finalAnswer: { text: '1,080', value: 1080 },
      source: 'gsm8k',
      meta: { file: 'f.jsonl', line: 3 },
    });
    expect(t.plan[1]).not.toHaveProperty('subAnswer');
  });

  it('rejects a non-object, a missing field and an empty "####"', () => {
    expect(gsm8k.parse('text', ctx)).toEqual(new RowRejection('wrong-type', 'expected a JSON object, got string'));
    expect(gsm8k.parse({ answer: '#### 1' }, ctx)).toEqual(new RowRejection('missing-question', 'missing "question"'));
    expect(gsm8k.parse({ question: '  ', answer: '#### 1' }, ctx)).toEqual(new RowRejection('missing-question', '"question" is empty'));
    expect(gsm8k.parse({ question: 'Q', answer: 'a\n####  ' }, ctx)).toEqual(new RowRejection('missing-answer', '"answer" has an empty "####" line'));
  });
});

describe('ai-subq-raw', () => {
  const row = {
    problem: 'How many?',
    questions: ['Q1: First?\nQ2: Second?'],
    answers: ['A1: It is 3.\nSince 3 + 1 = 4,\nA2: we get 4.\nQ3: stray answer\n\nFinal answer: 4 apples'],
    answer: '#### 4',
  };

  it('pairs Qn with An, joins continuation lines, counts unmatched answers, keeps the model final answer', () => {
    const t = ok(aiSubqRaw.parse(row, ctx));
    expect(t.plan).toEqual([
      { subQuestion: 'First?', subAnswer: 'It is 3.\nSince 3 + 1 = 4,' },
      { subQuestion: 'Second?', subAnswer: 'we get 4.' },
    ]);
    expect(t.finalAnswer).toEqual({ text: '4', value: 4 });
    expect(t.meta).toMatchObject({ generatedFinalAnswer: '4 apples', unmatchedAnswers: 1 });
    expect(t.solution).toBe(row.answers[0]);
  });

  it('needs sub-questions and a gold answer', () => {
    expect(aiSubqRaw.parse({ ...row, questions: ['no labels here'] }, ctx)).toMatchObject({ code: 'empty-plan' });
    expect(aiSubqRaw.parse({ ...row, questions: 'Q1: x' }, ctx)).toMatchObject({ code: 'wrong-type' });
    expect(aiSubqRaw.parse({ ...row, answer: '#### lots' }, ctx)).toMatchObject({ code: 'unparseable-answer' });
  });
});

describe('ai-subq-dataset', () => {
  it('sub-questions without answers, rewards kept, true_answer as the final answer', () => {
    const t = ok(aiSubqDataset.parse({ question: 'Q?', answers: ['a?', 'b? '], rewards: { answer_correctness: 0, usefulness: [1, 0] }, true_answer: 18.0 }, ctx));
    expect(t).toMatchObject({ plan: [{ subQuestion: 'a?' }, { subQuestion: 'b?' }], solution: '', finalAnswer: { text: '18', value: 18 }, rewards: { answerCorrectness: 0, usefulness: [1, 0] } });
  });

  it('rejects empty plans, bad rewards and a missing answer', () => {
    expect(aiSubqDataset.parse({ question: 'Q?', answers: [], true_answer: 1 }, ctx)).toMatchObject({ code: 'empty-plan' });
    expect(aiSubqDataset.parse({ question: 'Q?', answers: ['a', ' '], true_answer: 1 }, ctx)).toMatchObject({ code: 'malformed-plan' });
    expect(aiSubqDataset.parse({ question: 'Q?', answers: ['a'], rewards: { usefulness: 'high' }, true_answer: 1 }, ctx)).toMatchObject({ code: 'wrong-type' });
    expect(aiSubqDataset.parse({ question: 'Q?', answers: ['a'], rewards: {} }, ctx)).toMatchObject({ code: 'missing-answer' });
  });
});

describe('plan-tuning', () => {
  const input = '<input> What is 2+3*4? </input>\n</think>\n\n';
  const instruction = "Let's execute the plan step by step and provide your final answer inside \\boxed{} notation.";

  it('splits a tagged plan into its numbered items and reads a \\boxed answer', () => {
    const plan = "<plan> Here's a plan:\n\n**1. Multiply first:**\n\n*   Compute 3*4.\n\n**2. Add:**\n*   Add 2. </plan>";
    const t = ok(planTuning.parse({ question: `${input}${plan}\n\n${instruction}`, answer: '<output> 3*4=12, so $\\boxed{14}$. </output>' }, ctx));
    expect(t.question).toBe('What is 2+3*4?');
    expect(t.plan).toEqual([{ subQuestion: 'Multiply first:\n*   Compute 3*4.' }, { subQuestion: 'Add:\n*   Add 2.' }]);
    expect(t.finalAnswer).toEqual({ text: '14', value: 14 });
    expect(t.solution).toBe('3*4=12, so $\\boxed{14}$.');
    expect(t.meta).toMatchObject({ instruction, planText: expect.stringContaining('**1. Multiply first:**') });
  });

  it('takes an untagged plan between </input> and the instruction, and keeps non-numeric answers', () => {
    const t = ok(planTuning.parse({ question: `${input}First multiply.\nThen add.\n\n${instruction}`, answer: '<output>\\boxed{p - q}</output>' }, ctx));
    expect(t.plan).toEqual([{ subQuestion: 'First multiply.' }, { subQuestion: 'Then add.' }]);
    expect(t.finalAnswer).toEqual({ text: 'p - q' });
  });

  it('recognises "### Step 1:" and "1.  **X:**" items, not bullets or decimals', () => {
    expect(planStepsFromText('intro\n### Step 1: a\n*   **Step 1.5: inner**\n3.5 is a number\n2.  **b:** c')).toEqual([
      { subQuestion: 'a\n*   **Step 1.5: inner**\n3.5 is a number' },
      { subQuestion: 'b: c' },
    ]);
  });

  it('needs an explicit final answer', () => {
    expect(planTuning.parse({ question: '<input>Q?</input>', answer: '<output>It is 5</output>' }, ctx)).toMatchObject({ code: 'missing-answer' });
    expect(planTuning.parse({ question: '<input> </input>', answer: '<output>#### 5</output>' }, ctx)).toMatchObject({ code: 'missing-question' });
  });
});

describe('plantune JSONL', () => {
  it('round-trips every kind of real trajectory unchanged', async () => {
    for (const path of ['gsm8k/test_socratic.jsonl', 'gsm8k-ai-subq/qg_test_dataset.jsonl', 'plan-tuning/gsm8k_test_methods.json']) {
      const { trajectories } = await importDataFile(path);
      for (const t of trajectories.slice(0, 50)) expect(ok(plantune.parse(JSON.parse(toPlantuneLine(t)), ctx))).toEqual(t);
    }
  });

  it('reads the examples in docs/plantune-jsonl.md', async () => {
    const doc = await readFile(new URL('../../docs/plantune-jsonl.md', import.meta.url), 'utf8');
    const block = /```json\n([\s\S]*?)```/.exec(doc)![1];
    const { trajectories, summary } = await importFile(new Blob([block]), { file: 'doc.jsonl' });
    expect(summary).toMatchObject({ format: 'plantune', rows: 3, kept: 3, rejected: 0 });
    expect(trajectories.map((t) => [t.id, t.plan.length, t.finalAnswer.value])).toEqual([['doc.jsonl:1', 2, 9], ['doc.jsonl:2', 0, 132], ['mine-3', 2, 15]]);
  });

  it('fills defaults: id from the location, problemId from the question, source plantune, meta = provenance', () => {
    const t = ok(plantune.parse({ question: 'Ann has 2 pens?', finalAnswer: '$1,200', plan: [] }, ctx));
    expect(t).toEqual({
      id: 'f.jsonl:3', problemId: problemIdFor('Ann has 2 pens?'), question: 'Ann has 2 pens?', plan: [], solution: '',
      finalAnswer: { text: '$1,200', value: 1200 }, source: 'plantune', meta: { file: 'f.jsonl', line: 3 },
    });
    expect(ok(plantune.parse({ question: 'Q', finalAnswer: 7 }, ctx)).finalAnswer).toEqual({ text: '7', value: 7 });
  });

  it.each([
    [{ question: 'Q', finalAnswer: '1', plan: {} }, 'wrong-type', '"plan" must be an array, got object'],
    [{ question: 'Q', finalAnswer: '1', plan: [{ subQuestion: '' }] }, 'malformed-plan', '"plan"[0]: "subQuestion" is empty'],
    [{ question: 'Q', finalAnswer: '1', plan: [{ subQuestion: 'a', subAnswer: 3 }] }, 'wrong-type', '"plan"[0]: "subAnswer" must be a string, got number'],
    [{ question: 'Q', finalAnswer: { text: '1', value: '1' } }, 'wrong-type', '"finalAnswer.value" must be a finite number, got string'],
    [{ question: 'Q', finalAnswer: [1] }, 'wrong-type', '"finalAnswer" must be an object, string or number, got array'],
    [{ question: 'Q', plan: [] }, 'missing-answer', 'missing "finalAnswer"'],
    [{ question: 'Q', finalAnswer: '1', source: 'mystery' }, 'wrong-type', expect.stringMatching(/^"source" must be one of gsm8k, /)],
    [{ question: 'Q', finalAnswer: '1', meta: 'x' }, 'wrong-type', '"meta" must be an object, got string'],
    [{ question: 'Q', finalAnswer: '1', id: 5 }, 'wrong-type', '"id" must be a string, got number'],
  ])('%j is rejected', (row, code, reason) => {
    expect(plantune.parse(row, ctx)).toEqual({ code, reason });
  });
});

describe('TRL', () => {
  const socraticTrajectory: Trajectory = {
    id: 'x', problemId: 'p1', question: 'Ann has 7 apples and buys 5. How many?', solution: '',
    plan: [{ subQuestion: 'How many after buying?', subAnswer: '7 + 5 = 12' }],
    finalAnswer: { text: '12', value: 12 }, source: 'plantune',
  };

  it('reads back what toTrlRecord writes, in both shapes', () => {
    for (const [shape, parser] of [['prompt-completion', trlPromptCompletion], ['messages', trlMessages]] as const) {
      const record = toTrlRecord(socraticTrajectory, 'socratic', shape);
      const t = ok(parser.parse(JSON.parse(JSON.stringify(record)), ctx));
      expect(t.question).toBe(socraticTrajectory.question);
      expect(t.problemId).toBe(problemIdFor(socraticTrajectory.question));
      expect(t.plan).toEqual(socraticTrajectory.plan);
      expect(t.finalAnswer).toEqual({ text: '12', value: 12 });
      expect(t.meta).toMatchObject({ style: 'socratic' });
    }
  });

  it('reads conversational prompt/completion and a system message', () => {
    const conv = ok(trlPromptCompletion.parse({ prompt: [{ role: 'user', content: 'What is 2+2?' }], completion: [{ role: 'assistant', content: 'It is 4.\n#### 4' }] }, ctx));
    expect(conv).toMatchObject({ question: 'What is 2+2?', plan: [], finalAnswer: { value: 4 }, source: 'trl-prompt-completion' });
    const chat = ok(trlMessages.parse({ messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Q: 1+1?' }, { role: 'assistant', content: 'The answer is 2.' }] }, ctx));
    expect(chat).toMatchObject({ question: 'Q: 1+1?', finalAnswer: { text: '2', value: 2 }, meta: { system: 'Be brief.' } });
    expect(chat.problemId).toBe(problemIdFor('1+1?'));
  });

  it('rejects completions without a final answer and malformed messages', () => {
    expect(trlPromptCompletion.parse({ prompt: 'Q?', completion: 'maybe 4' }, ctx)).toMatchObject({ code: 'missing-answer' });
    expect(trlMessages.parse({ messages: [{ role: 'user', content: 'Q?' }] }, ctx)).toMatchObject({ code: 'missing-answer' });
    expect(trlMessages.parse({ messages: [{ role: 'user' }] }, ctx)).toMatchObject({ code: 'wrong-type', reason: '"messages"[0] must be {"role": string, "content": string}' });
  });
});

describe('detectFormat', () => {
  it.each([
    [{ question: 'q', answer: 'a = <<1=1>>1\n#### 1' }, 'gsm8k'],
    [{ question: 'q', answer: 'Why? ** a\nHow? ** b\n#### 1' }, 'gsm8k-socratic'],
    [{ problem: 'q', questions: [], answers: [], answer: '#### 1' }, 'ai-subq-raw'],
    [{ question: 'q', answers: ['s?'], rewards: {}, true_answer: 1 }, 'ai-subq-dataset'],
    [{ question: '<input>q</input>', answer: '<output>#### 1</output>' }, 'plan-tuning'],
    [{ question: 'q', plan: [], finalAnswer: '1' }, 'plantune'],
    [{ prompt: 'q', completion: '#### 1' }, 'trl-prompt-completion'],
    [{ messages: [] }, 'trl-messages'],
    [{ question: 1, answer: 2 }, 'gsm8k'],
    [{ foo: 1 }, undefined],
    [[1, 2], undefined],
    ['text', undefined],
  ])('%j -> %s', (record, format) => {
    expect(detectFormat(record)).toBe(format);
  });

  it('every detected format has a parser', () => {
    expect(Object.keys(FORMAT_PARSERS).sort()).toEqual(
      ['ai-subq-dataset', 'ai-subq-raw', 'gsm8k', 'gsm8k-socratic', 'plan-tuning', 'plantune', 'trl-messages', 'trl-prompt-completion'],
    );
    expect(describeUnknownRecord(null)).toBe('a JSON null is not a trajectory record');
  });
});

describe('problem identity', () => {
  it('normalises wrappers, instructions, labels, quotes, spaces and case', () => {
    const base = "Janet's ducks lay 16 eggs. How many?";
    const variants = [
      'Janet\u2019s ducks  lay 16 eggs.\nHow many?',
      `<input>${base}</input>\n</think>\n\n<plan>1. count</plan>\n\nLet's execute the plan.`,
      `<input>${base}\n\nLet's think step by step and provide your final answer inside \\boxed{} notation.</input>`,
      `Question: ${base.toUpperCase()}`,
      `${base}\u00a0\u200b`,
    ];
    for (const v of variants) expect(problemIdFor(v)).toBe(problemIdFor(base));
    expect(problemIdFor("Janet's ducks lay 17 eggs. How many?")).not.toBe(problemIdFor(base));
    expect(normalizeQuestion(base)).toBe("janet's ducks lay 16 eggs. how many?");
    expect(problemIdFor(base)).toMatch(/^p[0-9a-f]{16}$/);
  });

  it('keeps a question that merely starts with an instruction word', () => {
    expect(questionParts('Solve for x: 2x = 4.')).toEqual({ question: 'Solve for x: 2x = 4.', instruction: undefined, trailer: undefined });
  });
});
