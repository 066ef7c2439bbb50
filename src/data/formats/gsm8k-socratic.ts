// GSM8K socratic (test_socratic.jsonl): like GSM8K, but every step line is `Sub-question? ** step`.
// Each line becomes a PlanStep {subQuestion, subAnswer: the worked step}; a line with nothing after `**`
// (two such lines exist upstream) is kept as a step without a sub-answer, so the plan has exactly one
// step per `**` line. A step line without `**` makes the row malformed.

import { isRowRejection, rowRejection } from '../rejection';
import { problemIdFor } from '../problem-id';
import type { PlanStep, Trajectory } from '../trajectory';
import { numericFinalAnswer, splitGsm8kAnswer } from './gsm8k-answer';
import { questionAndAnswer } from './gsm8k';
import { provenance, rowId, type FormatParser, type ParseResult, type RowContext } from './row';

const STEP = /^(.*?)\s+\*\*(?:\s+(.*))?$/;

/** True when a GSM8K-style answer is written as socratic `Q ** A` lines (used by detection). */
export function looksSocratic(answer: string): boolean {
  const { steps } = splitGsm8kAnswer(answer);
  return steps.length > 0 && steps.every((line) => STEP.test(line));
}

function parse(value: unknown, ctx: RowContext): ParseResult {
  const row = questionAndAnswer(value);
  if (isRowRejection(row)) return row;
  const { steps, finalText } = splitGsm8kAnswer(row.answer);
  const finalAnswer = numericFinalAnswer(finalText, 'answer');
  if (isRowRejection(finalAnswer)) return finalAnswer;
  if (steps.length === 0) return rowRejection('empty-plan', 'answer has no "sub-question ** step" lines before "####"');
  const plan: PlanStep[] = [];
  for (const [i, line] of steps.entries()) {
    const m = STEP.exec(line);
    if (!m || !m[1].trim()) return rowRejection('malformed-plan', `step ${i + 1} is not "sub-question ** step": "${line}"`);
    const subAnswer = m[2]?.trim();
    plan.push(subAnswer ? { subQuestion: m[1].trim(), subAnswer } : { subQuestion: m[1].trim() });
  }
  const trajectory: Trajectory = {
    id: rowId(ctx),
    problemId: problemIdFor(row.question),
    question: row.question,
    plan,
    solution: row.answer,
    finalAnswer,
    source: 'gsm8k-socratic',
    meta: provenance(ctx),
  };
  return trajectory;
}

export const gsm8kSocratic: FormatParser = { format: 'gsm8k-socratic', parse };
