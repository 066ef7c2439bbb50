// Problem identity. The same GSM8K problem appears in test.jsonl, the socratic file, both AI-SubQ files
// and both Plan-Tuning files, each wrapped differently. Every parser derives `problemId` from the question
// through `problemIdFor`, so those rows share one id and a split or contamination check by problemId
// sees them as one problem.

import { hash64 } from './hash';

export interface QuestionParts {
  /** The question itself, trimmed, wrappers and appended instructions removed, otherwise as written. */
  question: string;
  /** An instruction appended after the question ("Let's think step by step ..."), if any. */
  instruction?: string;
  /** Whatever followed `</input>` other than an instruction (Plan-Tuning puts a plan there). */
  trailer?: string;
}

/** Trailing paragraph that instructs the model rather than states the problem. */
const INSTRUCTION = /\n[ \t]*\n\s*((?:let['\u2019]?s|let us|please|now,? )?\s*(?:think|solve|execute|provide|put|write|give|answer|show|reason|explain)\b[\s\S]*)$/i;
const LABEL = /^\s*(?:question|problem|q)\s*:\s*/i;
const INPUT_TAG = /<input>([\s\S]*?)<\/input>([\s\S]*)$/;

/**
 * Separates a question from the wrapping some datasets add: `<input>…</input>` tags, anything after
 * `</input>`, a leading "Question:" label, and a trailing instruction paragraph.
 */
export function questionParts(raw: string): QuestionParts {
  let text = raw;
  let trailer: string | undefined;
  const tagged = text.includes('<input>') ? INPUT_TAG.exec(text) : null;
  if (tagged) {
    text = tagged[1];
    trailer = tagged[2].trim() || undefined;
  }
  const { text: question, instruction } = splitInstruction(text.replace(LABEL, ''));
  return { question, instruction, trailer };
}

/**
 * Splits a trailing instruction paragraph ("…\n\nLet's think step by step …") off `text`; both trimmed.
 * With `mayBeAllInstruction` the whole text may be the instruction (never so for a question).
 */
export function splitInstruction(text: string, mayBeAllInstruction = false): { text: string; instruction?: string } {
  const lead = mayBeAllInstruction ? '\n\n' : '';
  const m = INSTRUCTION.exec(lead + text);
  if (!m || (m.index === 0 && !mayBeAllInstruction)) return { text: text.trim() };
  return { text: text.slice(0, Math.max(0, m.index - lead.length)).trim(), instruction: m[1].trim() };
}

/**
 * The form two questions must share to count as the same problem: wrappers removed, Unicode
 * compatibility forms folded (NFKC), typographic quotes, dashes and odd spaces made plain,
 * whitespace collapsed, lower case.
 */
export function normalizeQuestion(raw: string): string {
  let text = questionParts(raw).question;
  if (/[^\t\n\r\x20-\x7e]/.test(text)) {
    text = text
      .normalize('NFKC')
      .replace(/[\u2018\u2019\u201a\u201b\u2032]/g, "'")
      .replace(/[\u201c\u201d\u201e\u201f\u2033]/g, '"')
      .replace(/[\u2010-\u2015\u2212]/g, '-')
      .replace(/[\u200b-\u200d\u2060\ufeff]/g, '');
  }
  return text.replace(/\s+/g, ' ').trim().toLowerCase();
}

/** Stable id of the problem a question states: `p` + 16 hex digits of the normalised question's hash. */
export function problemIdFor(question: string): string {
  return 'p' + hash64(normalizeQuestion(question));
}
