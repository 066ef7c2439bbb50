// GSM8K-AI-SubQ raw (qg_test_data_raw.jsonl, arXiv 2402.01812):
//   {"problem", "questions": ["Q1: …\nQ2: …"], "answers": ["A1: …\nA2: …\n\nFinal answer: 18"], "answer": "#### 18"}
// Sub-questions and answers were written by gpt-3.5-turbo; `answer` is the GSM8K gold answer.
//
// Plan: one step per `Qn:` line, its sub-answer the `An:` item with the same number (an item may run
// over several lines; upstream sometimes labels an answer `Qn:` by mistake, which is accepted). Answers
// without a matching question are not steps, but stay in `solution` and are counted in
// `meta.unmatchedAnswers`. The model's own "Final answer:" (sometimes wrong, sometimes not a number)
// is kept as `meta.generatedFinalAnswer`; `finalAnswer` is always the gold `####` value.

import { extractFinalAnswer } from '../answers';
import { isRowRejection, rowRejection } from '../rejection';
import { problemIdFor } from '../problem-id';
import type { PlanStep, Trajectory } from '../trajectory';
import { numericFinalAnswer, splitGsm8kAnswer } from './gsm8k-answer';
import { asFields, provenance, requiredString, rowId, stringArray, type FormatParser, type ParseResult, type RowContext } from './row';

const QUESTION_LABEL = /^Q(\d+)\s*[:.)]\s*/;
const ANSWER_LABEL = /^[AQ](\d+)\s*[:.)]\s*/;
const FINAL_ANSWER_LINE = /^final answer\s*:/i;

/** Numbered items (`Q1: …`), in order of first appearance; unlabelled lines continue the previous item. */
function numberedItems(text: string, label: RegExp): Map<number, string> {
  const items = new Map<number, string>();
  let current: number | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (FINAL_ANSWER_LINE.test(line)) break;
    const m = label.exec(line);
    if (m) {
      current = Number(m[1]);
      const body = line.slice(m[0].length);
      items.set(current, items.has(current) ? `${items.get(current)}\n${body}` : body);
    } else if (line && current !== undefined) {
      items.set(current, `${items.get(current)}\n${line}`);
    }
  }
  return items;
}

function parse(value: unknown, ctx: RowContext): ParseResult {
  const fields = asFields(value);
  if (isRowRejection(fields)) return fields;
  const question = requiredString(fields, 'problem', 'missing-question');
  if (isRowRejection(question)) return question;
  const questions = stringArray(fields, 'questions', 'empty-plan');
  if (isRowRejection(questions)) return questions;
  const answers = stringArray(fields, 'answers', 'missing-answer');
  if (isRowRejection(answers)) return answers;
  const gold = requiredString(fields, 'answer', 'missing-answer');
  if (isRowRejection(gold)) return gold;
  const finalAnswer = numericFinalAnswer(splitGsm8kAnswer(gold).finalText, 'answer');
  if (isRowRejection(finalAnswer)) return finalAnswer;

  const solution = answers.join('\n');
  const subQuestions = numberedItems(questions.join('\n'), QUESTION_LABEL);
  const subAnswers = numberedItems(solution, ANSWER_LABEL);
  if (subQuestions.size === 0) return rowRejection('empty-plan', '"questions" has no "Q1: …" lines');
  const plan: PlanStep[] = [];
  for (const [n, subQuestion] of subQuestions) {
    if (!subQuestion.trim()) return rowRejection('malformed-plan', `sub-question Q${n} is empty`);
    const subAnswer = subAnswers.get(n)?.trim();
    plan.push(subAnswer ? { subQuestion: subQuestion.trim(), subAnswer } : { subQuestion: subQuestion.trim() });
  }
  const unmatchedAnswers = [...subAnswers.keys()].filter((n) => !subQuestions.has(n)).length;
  const generated = extractFinalAnswer(solution, { allowFallback: false });
  const trajectory: Trajectory = {
    id: rowId(ctx),
    problemId: problemIdFor(question),
    question: question.trim(),
    plan,
    solution,
    finalAnswer,
    source: 'ai-subq-raw',
    meta: { ...provenance(ctx), generatedFinalAnswer: generated?.text, unmatchedAnswers },
  };
  return trajectory;
}

export const aiSubqRaw: FormatParser = { format: 'ai-subq-raw', parse };
