// Human names for what the data module reports (formats, rejection codes), for the page.
import type { RejectCode } from '../data/rejection';
import type { SourceFormat } from '../data/trajectory';

export const FORMAT_LABELS: Readonly<Record<SourceFormat, string>> = {
  gsm8k: 'GSM8K',
  'gsm8k-socratic': 'GSM8K socratic',
  'ai-subq-raw': 'GSM8K-AI-SubQ (raw JSONL)',
  'ai-subq-dataset': 'GSM8K-AI-SubQ (scored JSON array)',
  'plan-tuning': 'Plan-Tuning',
  plantune: 'Plantune JSONL',
  'trl-prompt-completion': 'TRL prompt/completion',
  'trl-messages': 'TRL messages',
};

export const REASON_LABELS: Readonly<Record<RejectCode, string>> = {
  'invalid-json': 'invalid JSON',
  'invalid-utf8': 'invalid UTF-8',
  'too-long': 'record too long',
  'wrong-type': 'wrong type',
  'missing-question': 'missing question',
  'missing-answer': 'missing answer',
  'unparseable-answer': 'unreadable answer',
  'empty-plan': 'no plan steps',
  'malformed-plan': 'malformed plan',
  'unknown-format': 'unknown format',
  'duplicate-id': 'duplicate id',
  'duplicate-row': 'duplicate row',
  'empty-file': 'empty file',
  'binary-file': 'binary file',
  'unsupported-encoding': 'unsupported encoding',
  'not-json': 'not JSON',
  truncated: 'truncated file',
  'trailing-content': 'content after the data',
};

export const reasonLabel = (code: string): string => REASON_LABELS[code as RejectCode] ?? code;
