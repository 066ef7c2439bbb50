// Format detection from content: the first bytes say whether a file is JSON Lines or one JSON array
// (or not JSON, or not text at all); the first recognisable record says which trajectory format it is.
// Callers can always override the record format (`ReadOptions.format`).

import type { FileErrorCode } from './rejection';
import { looksSocratic } from './formats/gsm8k-socratic';
import { typeName } from './formats/row';
import type { SourceFormat } from './trajectory';

export type Container = 'jsonl' | 'json-array';

export type Sniffed =
  | { container: Container; /** Bytes of UTF-8 byte-order mark to skip (0 or 3). */ skip: number }
  | { error: FileErrorCode; reason: string };

const isSpace = (b: number): boolean => b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;

/** Classifies a file from its first bytes (`head`); pass the whole file when it is shorter. */
export function sniffBytes(head: Uint8Array): Sniffed {
  if (head.length === 0) return { error: 'empty-file', reason: 'the file is empty' };
  const [b0, b1] = head;
  if ((b0 === 0xff && b1 === 0xfe) || (b0 === 0xfe && b1 === 0xff)) {
    return { error: 'unsupported-encoding', reason: 'the file is UTF-16 encoded; save it as UTF-8' };
  }
  if (b0 === 0x1f && b1 === 0x8b) return { error: 'unsupported-encoding', reason: 'the file is gzip-compressed; decompress it first' };
  if (b0 === 0x50 && b1 === 0x4b) return { error: 'unsupported-encoding', reason: 'the file is a zip archive; extract it first' };
  const nul = head.indexOf(0);
  if (nul >= 0) return { error: 'binary-file', reason: `the file is binary, not text (NUL byte at offset ${nul})` };
  const skip = b0 === 0xef && b1 === 0xbb && head[2] === 0xbf ? 3 : 0;
  let i = skip;
  while (i < head.length && isSpace(head[i])) i++;
  if (i === head.length) return { error: 'empty-file', reason: 'the file holds only whitespace' };
  if (head[i] === 0x5b) return { container: 'json-array', skip };
  if (head[i] === 0x7b) return { container: 'jsonl', skip };
  const start = new TextDecoder('utf-8', { fatal: false }).decode(head.subarray(i, i + 24)).split('\n')[0];
  return { error: 'not-json', reason: `the file starts with "${start}", not JSON: expected JSON Lines (one {…} per line) or a JSON array […]` };
}

type Fields = Record<string, unknown>;

/** The trajectory format a parsed record is written in, or undefined when it is none Plantune reads. */
export function detectFormat(record: unknown): SourceFormat | undefined {
  if (typeof record !== 'object' || record === null || Array.isArray(record)) return undefined;
  const r = record as Fields;
  const has = (key: string): boolean => r[key] !== undefined;
  if (Array.isArray(r.messages)) return 'trl-messages';
  if (has('prompt') && has('completion')) return 'trl-prompt-completion';
  if (has('problem') && has('questions') && has('answers')) return 'ai-subq-raw';
  if (has('question') && Array.isArray(r.answers) && (has('true_answer') || has('rewards'))) return 'ai-subq-dataset';
  if (has('question') && (has('finalAnswer') || has('plan'))) return 'plantune';
  if (!has('question') || !has('answer')) return undefined;
  if (typeof r.question === 'string' && typeof r.answer === 'string') {
    if (r.question.includes('<input>') || r.answer.trimStart().startsWith('<output>')) return 'plan-tuning';
    if (looksSocratic(r.answer)) return 'gsm8k-socratic';
  }
  return 'gsm8k';
}

/** Why `detectFormat` gave up on a record, for the rejection message. */
export function describeUnknownRecord(record: unknown): string {
  if (typeof record !== 'object' || record === null || Array.isArray(record)) {
    return `a JSON ${typeName(record)} is not a trajectory record`;
  }
  const keys = Object.keys(record).slice(0, 8);
  return `no known trajectory format has the keys {${keys.join(', ')}}; expected e.g. {question, answer} (GSM8K), ` +
    '{problem, questions, answers, answer} (AI-SubQ), {question, plan, finalAnswer} (Plantune), {prompt, completion} or {messages} (TRL)';
}
