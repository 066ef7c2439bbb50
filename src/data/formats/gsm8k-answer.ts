// The GSM8K answer layout, shared by the GSM8K-derived parsers and the templates:
//   Natalia sold 48/2 = <<48/2=24>>24 clips in May.
//   Natalia sold 48+24 = <<48+24=72>>72 clips altogether in April and May.
//   #### 72

import { rowRejection, type RowRejection } from '../rejection';
import { parseNumber } from '../answers';
import type { FinalAnswer } from '../trajectory';

export interface Gsm8kAnswer {
  /** Non-blank lines before the `####` line, trimmed, in order. */
  steps: string[];
  /** Text after the last `####`, trimmed; undefined when there is no `####` line. */
  finalText?: string;
}

const FINAL_LINE = /^\s*####(.*)$/;
const ANNOTATION = /<<([^<>]*)>>/g;

export function splitGsm8kAnswer(answer: string): Gsm8kAnswer {
  const lines = answer.split('\n');
  let finalAt = -1;
  lines.forEach((line, i) => {
    if (FINAL_LINE.test(line)) finalAt = i;
  });
  const body = finalAt >= 0 ? lines.slice(0, finalAt) : lines;
  const steps = body.map((l) => l.trim()).filter((l) => l.length > 0);
  const finalText = finalAt >= 0 ? (FINAL_LINE.exec(lines[finalAt]) as RegExpExecArray)[1].trim() : undefined;
  return { steps, finalText };
}

/** `48/2 = <<48/2=24>>24` -> `48/2 = 24`. */
export function stripCalculatorAnnotations(text: string): string {
  return text.replace(ANNOTATION, '');
}

/** Result of the last calculator annotation in a line (`<<48/2=24>>` -> "24"), if any. */
export function calculatorResult(line: string): string | undefined {
  let result: string | undefined;
  for (const m of line.matchAll(ANNOTATION)) {
    const eq = m[1].lastIndexOf('=');
    if (eq >= 0 && m[1].slice(eq + 1).trim()) result = m[1].slice(eq + 1).trim();
  }
  return result;
}

/**
 * The numeric final answer of a GSM8K-style `####` line. GSM8K answers are numbers, so text that
 * states none is a rejection rather than a text answer.
 */
export function numericFinalAnswer(finalText: string | undefined, field: string): FinalAnswer | RowRejection {
  if (finalText === undefined) return rowRejection('missing-answer', `"${field}" has no "#### <final answer>" line`);
  if (!finalText) return rowRejection('missing-answer', `"${field}" has an empty "####" line`);
  const value = parseNumber(finalText);
  if (value === undefined) return rowRejection('unparseable-answer', `final answer "${finalText}" is not a number`);
  return { text: finalText, value };
}
