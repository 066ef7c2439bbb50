import { afterEach, describe, expect, it } from 'vitest';
import { TeacherError } from '../../src/teacher/errors';
import { FunctionTeacher } from '../../src/teacher/function-teacher';
import { HttpTeacher } from '../../src/teacher/http-teacher';
import { DEFAULT_SAMPLING, type MethodName, METHODS, UsageMeter, toTrajectories } from '../../src/teacher/methods';
import { DEFAULT_PROMPTS, promptHash } from '../../src/teacher/prompts';
import { makeQuestion } from '../../src/teacher/questions';
import { type FakeTeacher, type Script, completion, startFakeTeacher } from './fake-server';

let server: FakeTeacher | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const question = makeQuestion(7, 'Janet has 3 apples and buys 4 more. How many apples does she have?', { text: '7', value: 7 });

async function run(method: MethodName, script: Script, n = 3) {
  server = await startFakeTeacher(script);
  const teacher = new HttpTeacher({ baseUrl: server.baseUrl, model: 'teacher-test', retryBaseMs: 5, maxRetries: 1 });
  const meter = new UsageMeter(teacher);
  const sampling = { ...DEFAULT_SAMPLING, n, temperature: 0.9 };
  const drafts = await METHODS[method](question, { prompts: DEFAULT_PROMPTS, sampling, meter });
  const rows = toTrajectories(question, drafts, {
    jobId: 'job1',
    method,
    teacher,
    prompts: DEFAULT_PROMPTS,
    sampling,
    usage: meter.usage,
    createdAt: '2025-01-01T00:00:00.000Z',
  });
  return { rows, usage: meter.usage, requests: server.requests };
}

/** Plans "A", "B", "C" in turn; the judge scores them 10, 90, -5; only plan B leads to the right answer. */
const bestOfThree: Script = (r) => {
  const letter = 'ABC'[r.nth % 3];
  switch (r.purpose) {
    case 'plan':
      return completion(`Step 1: Count the apples (plan ${letter}).\nStep 2: Add what she buys.`);
    case 'judge': {
      const which = /plan ([ABC])/.exec(r.plan ?? '')?.[1];
      return completion(`Reasoning.\nScore: ${which === 'A' ? 10 : which === 'B' ? 90 : -5}`);
    }
    case 'execute':
      return completion(`Step 1: 3 apples.\nStep 2: 3 + 4 = 7.\nFinal answer: ${r.plan?.includes('plan B') ? 7 : 12}`);
    default:
      return { status: 400, json: {} };
  }
};

describe('plan method (best-of-n)', () => {
  it('samples n plans at the temperature, judges each, and carries out the highest-scored one', async () => {
    const { rows, requests, usage } = await run('plan', bestOfThree);
    expect(requests.map((r) => r.purpose)).toEqual(['plan', 'plan', 'plan', 'judge', 'judge', 'judge', 'execute']);
    expect(requests.filter((r) => r.purpose === 'plan').every((r) => r.body.temperature === 0.9)).toBe(true);
    expect(requests.filter((r) => r.purpose !== 'plan').every((r) => r.body.temperature === 0)).toBe(true);
    expect(requests.find((r) => r.purpose === 'execute')!.plan).toContain('plan B');
    expect(rows).toHaveLength(1);
    const t = rows[0];
    // The plans arrive at the server concurrently, so their order may vary; the choice may not.
    const judge = t.meta!.judge as { scores: number[]; best: number; bestScore: number; unscored: number };
    expect([...judge.scores].sort((a, b) => a - b)).toEqual([-5, 10, 90]);
    expect(judge).toMatchObject({ bestScore: 90, unscored: 0 });
    expect(judge.scores[judge.best]).toBe(90);
    expect(t.plan).toEqual([
      { subQuestion: 'Count the apples (plan B).', subAnswer: '3 apples.' },
      { subQuestion: 'Add what she buys.', subAnswer: '3 + 4 = 7.' },
    ]);
    expect(t.finalAnswer).toEqual({ text: '7', value: 7 });
    expect(t.meta).toMatchObject({ generatedFinalAnswer: '7', generatedFinalValue: 7 });
    expect(t.rewards).toEqual({ answerCorrectness: 1 });
    expect(usage).toEqual({ promptTokens: 7 * 20, completionTokens: 7 * 10, requests: 7 });
  });

  it('marks a wrong final answer 0 and keeps it out of SFT', async () => {
    const lowForB: Script = (r) => (r.purpose === 'judge' && r.plan?.includes('plan B') ? completion('Score: -50') : bestOfThree(r));
    const { rows } = await run('plan', lowForB);
    expect(rows[0].meta!.judge).toMatchObject({ bestScore: 10 });
    expect(rows[0].plan[0].subQuestion).toContain('plan A');
    // The row keeps the gold answer as its target; the teacher's wrong one is in meta.
    expect(rows[0].finalAnswer).toEqual({ text: '7', value: 7 });
    expect(rows[0].rewards).toEqual({ answerCorrectness: 0 });
    expect(rows[0].meta).toMatchObject({ correct: false, sft: false, generatedFinalAnswer: '12', generatedFinalValue: 12 });
  });

  it('ranks an unreadable or failed judgement below every scored plan', async () => {
    const script: Script = (r) => {
      if (r.purpose === 'judge' && r.plan?.includes('plan A')) return completion('I like it a lot!');
      if (r.purpose === 'judge' && r.plan?.includes('plan B')) return { status: 400, json: { error: { message: 'too long' } } };
      if (r.purpose === 'judge') return completion('Score: -90');
      return bestOfThree(r);
    };
    const { rows } = await run('plan', script);
    const judge = rows[0].meta!.judge as { scores: (number | null)[]; best: number; bestScore: number; unscored: number };
    expect(judge).toMatchObject({ bestScore: -90, unscored: 2 });
    expect(judge.scores.filter((x) => x === null)).toHaveLength(2);
    expect(rows[0].plan[0].subQuestion).toContain('plan C');
  });

  it('drops truncated and duplicate plans before judging', async () => {
    const script: Script = (r) => {
      if (r.purpose === 'plan' && r.nth === 0) return completion('Step 1: Count the apples', { finish: 'length' });
      if (r.purpose === 'plan') return completion('Step 1: Count the apples (plan B).\nStep 2: Add.');
      return bestOfThree(r);
    };
    const { rows, requests } = await run('plan', script);
    expect(requests.filter((r) => r.purpose === 'judge')).toHaveLength(1);
    expect(rows[0].meta!.samples).toEqual({ drawn: 3, distinct: 1 });
  });

  it('fails with a typed error when the execution is truncated or states no answer', async () => {
    await expect(run('plan', (r) => (r.purpose === 'execute' ? completion('Step 1: 3 +', { finish: 'length' }) : bestOfThree(r)))).rejects.toMatchObject({
      kind: 'truncated',
    });
    await server!.close();
    await expect(run('plan', (r) => (r.purpose === 'execute' ? completion('I cannot tell.') : bestOfThree(r)))).rejects.toMatchObject({ kind: 'no-answer' });
    await server!.close();
    await expect(run('plan', (r) => (r.purpose === 'plan' ? completion('Just add them.') : bestOfThree(r)))).rejects.toMatchObject({ kind: 'unparseable' });
  });
});

describe('subq method (sub-question decomposition)', () => {
  it('answers each distinct decomposition and returns one scored trajectory per decomposition', async () => {
    const script: Script = (r) => {
      if (r.purpose === 'decompose') {
        return completion(r.nth === 1 ? 'Q1: How many apples at first?\nQ2: How many after buying?' : 'Q1: How many apples in total?');
      }
      if (r.purpose === 'answer') {
        const two = r.plan?.includes('Q2');
        return completion(two ? 'A1: 3.\nA2: 3 + 4 = 7.\n\nFinal answer: 7' : 'A1: 3 + 5 = 8.\n\nFinal answer: 8');
      }
      return { status: 400, json: {} };
    };
    const { rows, requests } = await run('subq', script, 3);
    expect(requests.filter((r) => r.purpose === 'decompose')).toHaveLength(3);
    expect(requests.filter((r) => r.purpose === 'answer')).toHaveLength(2); // two of the three decompositions are the same
    expect(rows.map((t) => t.id)).toEqual(['job1:7:0', 'job1:7:1']);
    const byCorrect = Object.fromEntries(rows.map((t) => [t.rewards!.answerCorrectness, t]));
    expect(byCorrect[1].plan).toEqual([
      { subQuestion: 'How many apples at first?', subAnswer: '3.' },
      { subQuestion: 'How many after buying?', subAnswer: '3 + 4 = 7.' },
    ]);
    expect(byCorrect[1].solution).toBe('A1: 3.\nA2: 3 + 4 = 7.\n\nFinal answer: 7');
    expect(byCorrect[0].meta!.generatedFinalValue).toBe(8);
    expect(byCorrect[0].meta!.sft).toBe(false);
  });

  it('keeps the decompositions that could be answered when others fail', async () => {
    const script: Script = (r) => {
      if (r.purpose === 'decompose') return completion(`Q1: Variant ${r.nth}?`);
      if (r.purpose === 'answer' && r.plan?.includes('Variant 0')) return completion('A1: ...', { finish: 'length' });
      return completion('A1: 7.\n\nFinal answer: 7');
    };
    const { rows } = await run('subq', script, 2);
    expect(rows).toHaveLength(1);
    expect(rows[0].meta!.samples).toEqual({ drawn: 2, distinct: 2, failed: ['truncated'] });
  });
});

describe('trajectories', () => {
  it('are Plantune trajectories with provenance in meta', async () => {
    const { rows } = await run('plan', bestOfThree);
    const t = rows[0];
    expect(t).toMatchObject({ id: 'job1:7', problemId: question.problemId, question: question.question, source: 'plantune' });
    expect(t.meta).toMatchObject({
      teacher: { model: 'teacher-test', endpoint: server!.baseUrl },
      method: 'plan-best-of-n',
      promptVersion: DEFAULT_PROMPTS.version,
      promptHash: promptHash(DEFAULT_PROMPTS),
      sampling: { n: 3, temperature: 0.9, judgeTemperature: 0, executeTemperature: 0 },
      usage: { requests: 7 },
      jobId: 'job1',
      questionIndex: 7,
      correct: true,
      sft: true,
    });
    expect(JSON.parse(JSON.stringify(t))).toEqual(t);
  });

  it("read back unchanged by the data module's Plantune JSONL parser", async () => {
    const { plantune } = await import('../../src/data/formats/plantune');
    const { rows } = await run('subq', (r) => (r.purpose === 'decompose' ? completion('Q1: How many in all?') : completion('A1: 3 + 4 = 7.\n\nFinal answer: 7')), 1);
    const line = JSON.stringify(rows[0]);
    expect(plantune.parse(JSON.parse(line), { file: 'out.jsonl', line: 1 })).toEqual(rows[0]);
  });

  it('come from a local teacher just the same (FunctionTeacher)', async () => {
    const teacher = new FunctionTeacher(
      async (messages) => {
        const user = messages[messages.length - 1].content;
        const text = user.includes('Break the problem') ? 'Q1: How many?' : 'A1: 7.\nFinal answer: 7';
        return { text, finishReason: 'stop', promptTokens: 5, completionTokens: 2 };
      },
      { model: 'local-7b' },
    );
    const meter = new UsageMeter(teacher);
    const drafts = await METHODS.subq(question, { prompts: DEFAULT_PROMPTS, sampling: { ...DEFAULT_SAMPLING, n: 1 }, meter });
    expect(drafts[0].finalAnswer.value).toBe(7);
    expect(meter.usage).toEqual({ promptTokens: 10, completionTokens: 4, requests: 2 });
    const failing = new FunctionTeacher(async () => ({ text: 'Q1: x', finishReason: 'length' }), { model: 'local' });
    await expect(failing.complete([{ role: 'user', content: 'hi' }])).rejects.toBeInstanceOf(TeacherError);
  });
});
