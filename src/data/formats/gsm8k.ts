// GSM8K (openai/grade-school-math): {"question", "answer"}, the answer being step lines with calculator
// annotations (`<<48/2=24>>`) and a final `#### 72` line (commas allowed: `#### 1,080`).
//
// The plan. Plain GSM8K has no sub-questions, and inventing them would put words in the source's mouth,
// while an empty `subQuestion` would make every template print blank steps. So each non-blank step line
// becomes one PlanStep whose `subQuestion` is the step as written — a statement of what to work out
// ("Natalia sold 48/2 = <<48/2=24>>24 clips in May."; annotations kept, templates strip them) — and whose
// `subAnswer` is the result of the line's last calculator annotation ("24"), absent for lines without one.
// Blank lines are not steps. The full answer text stays in `solution`.

import { isRowRejection, rowRejection, type RowRejection } from '../rejection';
import { problemIdFor } from '../problem-id';
import type { PlanStep, Trajectory } from '../trajectory';
import { calculatorResult, numericFinalAnswer, splitGsm8kAnswer } from './gsm8k-answer';
import { asFields, provenance, requiredString, rowId, type FormatParser, type ParseResult, type RowContext } from './row';

/** One statement-step per solution line (see the header comment). */
export function stepsFromLines(lines: string[]): PlanStep[] {
  return lines.map((line) => {
    const result = calculatorResult(line);
    return result === undefined ? { subQuestion: line } : { subQuestion: line, subAnswer: result };
  });
}

/** The `{question, answer}` pair every GSM8K file shares, checked. */
export function questionAndAnswer(value: unknown): { question: string; answer: string } | RowRejection {
  const fields = asFields(value);
  if (isRowRejection(fields)) return fields;
  const question = requiredString(fields, 'question', 'missing-question');
  if (isRowRejection(question)) return question;
  const answer = requiredString(fields, 'answer', 'missing-answer');
  if (isRowRejection(answer)) return answer;
  return { question: question.trim(), answer };
}

function parse(value: unknown, ctx: RowContext): ParseResult {
  const row = questionAndAnswer(value);
  if (isRowRejection(row)) return row;
  const { steps, finalText } = splitGsm8kAnswer(row.answer);
  const finalAnswer = numericFinalAnswer(finalText, 'answer');
  if (isRowRejection(finalAnswer)) return finalAnswer;
  if (steps.length === 0) return rowRejection('empty-plan', 'answer has no step lines before "####"');
  const trajectory: Trajectory = {
    id: rowId(ctx),
    problemId: problemIdFor(row.question),
    question: row.question,
    plan: stepsFromLines(steps),
    solution: row.answer,
    finalAnswer,
    source: 'gsm8k',
    meta: provenance(ctx),
  };
  return trajectory;
}

export const gsm8k: FormatParser = { format: 'gsm8k', parse };
