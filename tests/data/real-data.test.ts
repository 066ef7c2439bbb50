// Every file in ../shared/data imports with zero rejections, the counts and plan steps match what
// simple independent counting finds, gold answers match the `####` lines, and the same GSM8K test
// problem gets the same problemId in every file that contains it.

import { beforeAll, describe, expect, it } from 'vitest';
import { extractFinalAnswer } from '../../src/data/answers';
import { checkContamination } from '../../src/data/split';
import type { SourceFormat, Trajectory } from '../../src/data/trajectory';
import type { ImportSummary } from '../../src/data/validate';
import { importDataFile, jsonLines } from './helpers';

const FILES: { path: string; rows: number; format: SourceFormat }[] = [
  { path: 'gsm8k/train.jsonl', rows: 7473, format: 'gsm8k' },
  { path: 'gsm8k/test.jsonl', rows: 1319, format: 'gsm8k' },
  { path: 'gsm8k/test_socratic.jsonl', rows: 1319, format: 'gsm8k-socratic' },
  { path: 'gsm8k-ai-subq/qg_test_data_raw.jsonl', rows: 1319, format: 'ai-subq-raw' },
  { path: 'gsm8k-ai-subq/qg_test_dataset.jsonl', rows: 1319, format: 'ai-subq-dataset' },
  { path: 'plan-tuning/gsm8k_test_sft.json', rows: 1319, format: 'plan-tuning' },
  { path: 'plan-tuning/gsm8k_test_methods.json', rows: 1319, format: 'plan-tuning' },
];

const imported = new Map<string, { trajectories: Trajectory[]; summary: ImportSummary }>();
const rows = (path: string): Trajectory[] => imported.get(path)!.trajectories;

beforeAll(async () => {
  for (const f of FILES) imported.set(f.path, await importDataFile(f.path));
});

describe('real data imports cleanly', () => {
  it.each(FILES)('$path: $rows rows, zero rejected, format $format', ({ path, rows: n, format }) => {
    const { trajectories, summary } = imported.get(path)!;
    expect(summary.fileErrors).toEqual([]);
    expect(summary.rejections).toEqual([]);
    expect(summary).toMatchObject({ rows: n, kept: n, rejected: 0, duplicates: 0, format, formatDetected: true });
    expect(trajectories).toHaveLength(n);
    expect(new Set(trajectories.map((t) => t.id)).size).toBe(n);
    expect(trajectories.filter((t) => t.plan.length === 0 || typeof t.finalAnswer.value !== 'number')).toEqual([]);
  });
});

describe('plan steps match independent counts', () => {
  it('socratic: one plan step per "**" line', async () => {
    const raw = await jsonLines('gsm8k/test_socratic.jsonl');
    const starLines = raw.flatMap((r) => String(r.answer).split('\n')).filter((l) => l.includes('**')).length;
    const steps = rows('gsm8k/test_socratic.jsonl').reduce((n, t) => n + t.plan.length, 0);
    console.log(`socratic: ${steps} plan steps, ${starLines} "**" lines`);
    expect(steps).toBe(starLines);
    expect(steps).toBe(4821);
    const withAnswer = rows('gsm8k/test_socratic.jsonl').flatMap((t) => t.plan).filter((s) => s.subAnswer).length;
    expect(withAnswer).toBe(4821 - 2); // two upstream lines have nothing after "**"
  });

  it.each(['gsm8k/train.jsonl', 'gsm8k/test.jsonl'])('%s: one plan step per non-blank step line', async (path) => {
    const raw = await jsonLines(path);
    const stepLines = raw.flatMap((r) => String(r.answer).split('\n')).filter((l) => l.trim() && !l.startsWith('####')).length;
    expect(rows(path).reduce((n, t) => n + t.plan.length, 0)).toBe(stepLines);
  });

  it('AI-SubQ: plan steps are the Q lines and the sub-question lists', async () => {
    const raw = await jsonLines('gsm8k-ai-subq/qg_test_data_raw.jsonl');
    const qLines = raw.flatMap((r) => (r.questions as string[]).join('\n').split('\n')).filter((l) => /^Q\d+:/.test(l)).length;
    expect(rows('gsm8k-ai-subq/qg_test_data_raw.jsonl').reduce((n, t) => n + t.plan.length, 0)).toBe(qLines);
    const dataset = rows('gsm8k-ai-subq/qg_test_dataset.jsonl');
    const correct = dataset.filter((t) => t.rewards?.answerCorrectness === 1).length;
    expect([correct, dataset.length - correct]).toEqual([882, 437]);
    expect(dataset.every((t) => t.plan.every((s) => s.subAnswer === undefined))).toBe(true);
  });
});

describe('gold answers', () => {
  it('every GSM8K test row: finalAnswer equals its "####" value (all 1,319)', async () => {
    const raw = await jsonLines('gsm8k/test.jsonl');
    const parsed = rows('gsm8k/test.jsonl');
    const mismatches: number[] = [];
    let matched = 0;
    raw.forEach((r, i) => {
      const hashText = String(r.answer).split('####')[1].trim();
      const value = Number(hashText.replace(/,/g, ''));
      const extracted = extractFinalAnswer(String(r.answer));
      const same = parsed[i].finalAnswer.text === hashText && parsed[i].finalAnswer.value === value;
      if (same && extracted?.text === hashText && extracted.value === value && extracted.method === 'hash' && !extracted.fallback) matched++;
      else mismatches.push(i + 1);
    });
    expect(mismatches).toEqual([]);
    expect(matched).toBe(1319);
  });

  it('the socratic, AI-SubQ raw and Plan-Tuning gold answers equal test.jsonl row by row', () => {
    const gold = rows('gsm8k/test.jsonl').map((t) => t.finalAnswer.value);
    for (const path of ['gsm8k/test_socratic.jsonl', 'gsm8k-ai-subq/qg_test_data_raw.jsonl', 'plan-tuning/gsm8k_test_sft.json', 'plan-tuning/gsm8k_test_methods.json']) {
      expect(rows(path).map((t) => t.finalAnswer.value)).toEqual(gold);
    }
  });

  it('AI-SubQ dataset true_answer: the 16 upstream rows cut at a comma or unsigned are the only differences', () => {
    const gold = rows('gsm8k/test.jsonl').map((t) => t.finalAnswer.value);
    const differ = rows('gsm8k-ai-subq/qg_test_dataset.jsonl').filter((t, i) => t.finalAnswer.value !== gold[i]);
    console.log(`AI-SubQ dataset: ${differ.length} true_answer values differ from test.jsonl (upstream parsing bug)`);
    expect(differ).toHaveLength(16);
  });
});

describe('problem identity across files', () => {
  const TEST_DERIVED = [
    'gsm8k/test_socratic.jsonl',
    'gsm8k-ai-subq/qg_test_data_raw.jsonl',
    'gsm8k-ai-subq/qg_test_dataset.jsonl',
    'plan-tuning/gsm8k_test_sft.json',
    'plan-tuning/gsm8k_test_methods.json',
  ];

  it.each(TEST_DERIVED)('%s: rows get the problemId of the same test.jsonl problem', (path) => {
    const test = rows('gsm8k/test.jsonl');
    const testIds = new Set(test.map((t) => t.problemId));
    const derived = rows(path);
    const inTest = derived.filter((t) => testIds.has(t.problemId)).length;
    const sameRow = derived.filter((t, i) => t.problemId === test[i].problemId).length;
    console.log(`${path}: ${inTest}/${derived.length} problemIds found in test.jsonl, ${sameRow} on the same row`);
    expect(inTest).toBeGreaterThanOrEqual(1300);
    expect(sameRow).toBeGreaterThanOrEqual(1300);
  });

  it('Plan-Tuning questions lose their <input> tags and appended instruction', () => {
    const test = rows('gsm8k/test.jsonl');
    const methods = rows('plan-tuning/gsm8k_test_methods.json');
    expect(methods.filter((t, i) => t.question === test[i].question).length).toBe(1319);
    expect(methods.every((t) => String(t.meta?.instruction).startsWith("Let's think step by step"))).toBe(true);
    expect(rows('plan-tuning/gsm8k_test_sft.json').every((t) => t.meta?.instruction === undefined)).toBe(true);
  });

  it('train and test share no problem, and 8,792 distinct questions give 8,792 distinct ids', () => {
    const train = rows('gsm8k/train.jsonl');
    const test = rows('gsm8k/test.jsonl');
    expect(checkContamination(train, test)).toEqual([]);
    expect(new Set([...train, ...test].map((t) => t.problemId)).size).toBe(7473 + 1319);
  });

  it('socratic (train) against test.jsonl (eval) is detected as contaminated', () => {
    const overlap = checkContamination(rows('gsm8k/test_socratic.jsonl'), rows('gsm8k/test.jsonl'));
    expect(overlap).toHaveLength(1319);
  });
});
