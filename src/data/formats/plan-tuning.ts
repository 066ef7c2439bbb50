// Plan-Tuning (Mihir3009/plan-tuning, arXiv 2507.07495): JSON arrays of
//   {"question": "<input>…</input>[</think>][<plan>…</plan>][instruction]", "answer": "<output>…</output>"}
// An instruction may also be appended inside `<input>` ("…\n\nLet's think step by step …"); it is kept as
// `meta.instruction`, never as part of the question. The answer ends in `#### x` (GSM8K) or `\boxed{x}`
// (MATH, where the answer may be an expression, so `finalAnswer.value` may be absent).
//
// Plan: the `<plan>` (or untagged text between `</input>` and the instruction) split into its numbered
// items ("**1. Understand…**", "1.  **Identify…**", "### Step 1: …"), each item with the lines under
// it; without numbered items, one step per line. With no plan at all (the GSM8K files here), the plan is
// built from the solution's step lines exactly as for plain GSM8K. The raw plan text is kept in
// `meta.planText`.

import { extractFinalAnswer } from '../answers';
import { isRowRejection, rowRejection } from '../rejection';
import { problemIdFor, questionParts, splitInstruction } from '../problem-id';
import type { PlanStep, Trajectory } from '../trajectory';
import { splitGsm8kAnswer } from './gsm8k-answer';
import { questionAndAnswer, stepsFromLines } from './gsm8k';
import { provenance, rowId, type FormatParser, type ParseResult, type RowContext } from './row';

const PLAN_TAG = /<plan>([\s\S]*?)<\/plan>/;
const OUTPUT_TAG = /<output>([\s\S]*?)<\/output>/;
const THINK_TAG = /<\/?think>/g;
/** An unindented numbered heading: "1.", "**2.", "### Step 3:", "Step 4)". */
const NUMBERED_ITEM = /^(?:#+\s*)?(?:\*\*)?\s*(?:step\s*)?\d+\s*[.):](?=\s|\*|$)\s*/i;

/** Splits free plan text into steps (see the header comment). Text before the first item is a preamble, not a step. */
export function planStepsFromText(text: string): PlanStep[] {
  const lines = text.split('\n');
  if (!lines.some((l) => NUMBERED_ITEM.test(l))) {
    return lines.map((l) => l.trim()).filter(Boolean).map((subQuestion) => ({ subQuestion }));
  }
  const steps: string[][] = [];
  for (const line of lines) {
    if (NUMBERED_ITEM.test(line)) steps.push([line.replace(NUMBERED_ITEM, '').replace(/\*\*/g, '').trim()]);
    else if (steps.length > 0 && line.trim()) steps[steps.length - 1].push(line.trim());
  }
  return steps.map((s) => ({ subQuestion: s.filter(Boolean).join('\n') })).filter((s) => s.subQuestion);
}

/** The plan and instruction that follow `</input>`. */
function splitTrailer(trailer: string): { planText?: string; instruction?: string } {
  const text = trailer.replace(THINK_TAG, '').trim();
  const tagged = PLAN_TAG.exec(text);
  if (tagged) {
    const rest = (text.slice(0, tagged.index) + '\n\n' + text.slice(tagged.index + tagged[0].length)).trim();
    return { planText: tagged[1].trim() || undefined, instruction: rest || undefined };
  }
  const split = splitInstruction(text, true);
  return { planText: split.text || undefined, instruction: split.instruction };
}

function parse(value: unknown, ctx: RowContext): ParseResult {
  const row = questionAndAnswer(value);
  if (isRowRejection(row)) return row;
  const parts = questionParts(row.question);
  if (!parts.question) return rowRejection('missing-question', '"question" has no text inside <input>…</input>');
  const after = parts.trailer ? splitTrailer(parts.trailer) : {};
  const instruction = [parts.instruction, after.instruction].filter(Boolean).join('\n\n') || undefined;

  const solution = (OUTPUT_TAG.exec(row.answer)?.[1] ?? row.answer).trim();
  const extracted = extractFinalAnswer(solution, { allowFallback: false });
  if (!extracted || !extracted.text) return rowRejection('missing-answer', '"answer" has no "#### x" line, \\boxed{x} or "Final answer: x"');
  const plan = after.planText ? planStepsFromText(after.planText) : stepsFromLines(splitGsm8kAnswer(solution).steps);
  if (plan.length === 0) return rowRejection('empty-plan', 'neither a plan nor solution step lines to build one from');

  const trajectory: Trajectory = {
    id: rowId(ctx),
    problemId: problemIdFor(parts.question),
    question: parts.question,
    plan,
    solution,
    finalAnswer: extracted.value === undefined ? { text: extracted.text } : { text: extracted.text, value: extracted.value },
    source: 'plan-tuning',
    meta: {
      ...provenance(ctx),
      ...(instruction ? { instruction } : {}),
      ...(after.planText ? { planText: after.planText } : {}),
    },
  };
  return trajectory;
}

export const planTuning: FormatParser = { format: 'plan-tuning', parse };
