// Every format parser, by the SourceFormat it produces.

import type { SourceFormat } from '../trajectory';
import { aiSubqDataset } from './ai-subq-dataset';
import { aiSubqRaw } from './ai-subq-raw';
import { gsm8k } from './gsm8k';
import { gsm8kSocratic } from './gsm8k-socratic';
import { planTuning } from './plan-tuning';
import { plantune } from './plantune';
import type { FormatParser } from './row';
import { trlMessages, trlPromptCompletion } from './trl';

export const FORMAT_PARSERS: Readonly<Record<SourceFormat, FormatParser>> = {
  gsm8k,
  'gsm8k-socratic': gsm8kSocratic,
  'ai-subq-raw': aiSubqRaw,
  'ai-subq-dataset': aiSubqDataset,
  'plan-tuning': planTuning,
  plantune,
  'trl-prompt-completion': trlPromptCompletion,
  'trl-messages': trlMessages,
};

export type { FormatParser, ParseResult, RowContext } from './row';
