// GSM8K-AI-SubQ dataset (qg_test_dataset.jsonl — one JSON array despite its name, arXiv 2402.01812):
//   {"question", "answers": [sub-question, …], "rewards": {"answer_correctness": 0|1, "usefulness": […]}, "true_answer": 18.0}
// `answers` holds the sub-questions (no sub-answers, no solution text); `rewards` is the offline-RL signal
// and is kept as `Trajectory.rewards`.
//
// Upstream caveat, kept as found: `true_answer` was parsed from the GSM8K answer by code that stops at a
// comma and drops the sign, so 16 of 1,319 rows are wrong (2,125 -> 2.0, -10 -> 10). Join on problemId
// with test.jsonl when the exact gold answer matters.

import { formatNumber, parseNumber } from '../answers';
import { isRowRejection, rowRejection, type RowRejection } from '../rejection';
import { problemIdFor } from '../problem-id';
import type { FinalAnswer, Trajectory, TrajectoryRewards } from '../trajectory';
import { asFields, provenance, requiredString, rowId, stringArray, typeName, type Fields, type FormatParser, type ParseResult, type RowContext } from './row';

function trueAnswer(fields: Fields): FinalAnswer | RowRejection {
  const raw = fields.true_answer;
  if (raw === undefined || raw === null) return rowRejection('missing-answer', 'missing "true_answer"');
  if (typeof raw === 'number' && Number.isFinite(raw)) return { text: formatNumber(raw), value: raw };
  if (typeof raw === 'string') {
    const value = parseNumber(raw);
    if (value === undefined) return rowRejection('unparseable-answer', `"true_answer" "${raw}" is not a number`);
    return { text: raw.trim(), value };
  }
  return rowRejection('wrong-type', `"true_answer" must be a number, got ${typeName(raw)}`);
}

function rewardsOf(fields: Fields): TrajectoryRewards | undefined | RowRejection {
  const raw = fields.rewards;
  if (raw === undefined || raw === null) return undefined;
  const rewards = asFields(raw);
  if (isRowRejection(rewards)) return rowRejection('wrong-type', `"rewards" must be an object, got ${typeName(raw)}`);
  const out: TrajectoryRewards = {};
  const correctness = rewards.answer_correctness;
  if (correctness !== undefined) {
    if (typeof correctness !== 'number') return rowRejection('wrong-type', `"rewards.answer_correctness" must be a number, got ${typeName(correctness)}`);
    out.answerCorrectness = correctness;
  }
  const usefulness = rewards.usefulness;
  if (usefulness !== undefined) {
    if (!Array.isArray(usefulness) || usefulness.some((u) => typeof u !== 'number')) {
      return rowRejection('wrong-type', '"rewards.usefulness" must be an array of numbers');
    }
    out.usefulness = usefulness as number[];
  }
  return out;
}

function parse(value: unknown, ctx: RowContext): ParseResult {
  const fields = asFields(value);
  if (isRowRejection(fields)) return fields;
  const question = requiredString(fields, 'question', 'missing-question');
  if (isRowRejection(question)) return question;
  const subQuestions = stringArray(fields, 'answers', 'empty-plan');
  if (isRowRejection(subQuestions)) return subQuestions;
  const finalAnswer = trueAnswer(fields);
  if (isRowRejection(finalAnswer)) return finalAnswer;
  const rewards = rewardsOf(fields);
  if (isRowRejection(rewards)) return rewards;
  if (subQuestions.length === 0) return rowRejection('empty-plan', '"answers" (the sub-questions) is empty');
  const blank = subQuestions.findIndex((q) => !q.trim());
  if (blank >= 0) return rowRejection('malformed-plan', `sub-question "answers"[${blank}] is empty`);
  const plan = subQuestions.map((q) => ({ subQuestion: q.trim() }));
  const trajectory: Trajectory = {
    id: rowId(ctx),
    problemId: problemIdFor(question),
    question: question.trim(),
    plan,
    solution: '',
    finalAnswer,
    source: 'ai-subq-dataset',
    ...(rewards ? { rewards } : {}),
    meta: provenance(ctx),
  };
  return trajectory;
}

export const aiSubqDataset: FormatParser = { format: 'ai-subq-dataset', parse };
