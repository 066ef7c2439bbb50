// Final-answer extraction and number parsing, shared by the parsers (gold answers), the templates
// (reading a model's completion back) and the rewards (correctness).

import type { FinalAnswer } from './trajectory';

/** Where in the text the answer was found, in the order they are tried. */
export type AnswerMethod = 'hash' | 'boxed' | 'final-answer' | 'answer-is' | 'last-number';

export interface ExtractedAnswer extends FinalAnswer {
  method: AnswerMethod;
  /** True when no explicit marker was found and the last number in the text was taken instead. */
  fallback: boolean;
}

export interface ExtractOptions {
  /** Take the last number when no marker is found (default true; the result is flagged `fallback`). */
  allowFallback?: boolean;
}

// ---- number parsing -------------------------------------------------------------------------------

/** A decimal number: digits grouped by thousands commas, or plain digits; optional fraction part. */
const NUM = String.raw`(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|\.\d+`;
/**
 * prefix, sign, currency, sign, number, then optionally a mixed-number fraction (`1 1/2`) or a
 * fraction (`3/4`), then suffix. Prefix and suffix may hold words (units, labels), never more digits.
 */
const NUMBER_IN_TEXT = new RegExp(
  String.raw`^([\s\S]*?)([-+]?)\s*([$€£¥]?)\s*([-+]?)\s*(${NUM})(?:\s+(\d+)\s*\/\s*(\d+)|\s*\/\s*(${NUM}))?([\s\S]*)$`,
);
/** Any number in running text; a minus counts as a sign only when it does not follow a word ("10-3"). */
const ANY_NUMBER = new RegExp(String.raw`(?:(?<![\w).])-)?[$€£¥]?(?:${NUM})(?:\s*\/\s*\d+)?`, 'g');

/** Rewrites the LaTeX that appears in answers into plain text: `\frac{3}{4}` -> `3/4`, `\$` -> `$`. */
function plainFromLatex(text: string): string {
  if (!/[\\{}°\u2212\u2013\u2044]/.test(text)) return text;
  return text
    .replace(/\\[dt]frac/g, '\\frac')
    .replace(/\\frac\s*\{([^{}]*)\}\s*\{([^{}]*)\}/g, '$1/$2')
    .replace(/\\(?:text|textbf|textrm|mathrm|mbox)\s*\{([^{}]*)\}/g, '$1')
    .replace(/\^\s*\{?\\circ\}?|°/g, '')
    .replace(/\\left|\\right/g, '')
    .replace(/\\[,;!: ]/g, '')
    .replace(/\{,\}/g, ',')
    .replace(/\\([$%])/g, '$1')
    .replace(/[\u2212\u2013]/g, '-')
    .replace(/\u2044/g, '/');
}

function toNumber(digits: string): number {
  return Number(digits.replace(/,/g, ''));
}

/**
 * The number a short answer text states, or undefined when it states none or several.
 * Accepts thousands commas, `$ € £ ¥`, a trailing `%` (kept as the number: "20%" -> 20, the GSM8K
 * convention), unit words ("18 dollars", "100cm"), signs, decimals, fractions (`3/4`, `\frac{3}{4}`),
 * mixed numbers (`1 1/2`), and an equation whose right-hand side is the number ("50+48=98" -> 98).
 * Rejects expressions and several numbers ("x+8", "3 onions and 1 potato", "2:00 pm").
 */
export function parseNumber(text: string): number | undefined {
  let s = plainFromLatex(text).trim();
  const math = /^\$([^$]*)\$$/.exec(s);
  if (math) s = math[1].trim();
  const eq = s.lastIndexOf('=');
  if (eq >= 0) s = s.slice(eq + 1);
  const m = NUMBER_IN_TEXT.exec(s);
  if (!m) return undefined;
  const [, prefix, sign1, , sign2, whole, mixedNum, mixedDen, den, suffix] = m;
  if (/\d/.test(prefix) || /\d/.test(suffix)) return undefined;
  if (/[*/^×÷<>]/.test(prefix) || /^\s*[-+*/^×÷]/.test(suffix)) return undefined;
  // A sign right after a word or bracket is an operator ("x - 10"), and a lone glued letter is a variable ("8x").
  if ((sign1 || sign2) && /[\p{L}\d)\]]\s*$/u.test(prefix)) return undefined;
  if (/^[xyzn](?![a-z])/i.test(suffix)) return undefined;
  let value = toNumber(whole);
  if (mixedNum !== undefined) {
    const d = Number(mixedDen);
    if (d === 0) return undefined;
    value += Number(mixedNum) / d;
  } else if (den !== undefined) {
    const d = toNumber(den);
    if (d === 0) return undefined;
    value /= d;
  }
  const negative = (sign1 === '-') !== (sign2 === '-');
  return negative ? -value : value;
}

/** Digits as they would be written in an answer line: 18 -> "18", 0.5 -> "0.5". */
export function formatNumber(value: number): string {
  return Number.isInteger(value) ? value.toFixed(0) : String(value);
}

// ---- extraction ----------------------------------------------------------------------------------

/** Contents of every `\boxed{…}` / `\fbox{…}` with balanced (nested) braces, in order. */
export function boxedContents(text: string): string[] {
  const found: string[] = [];
  const open = /\\(?:boxed|fbox)\s*\{/g;
  for (let m = open.exec(text); m; m = open.exec(text)) {
    let depth = 1;
    let i = open.lastIndex;
    for (; i < text.length && depth > 0; i++) {
      if (text[i] === '{') depth++;
      else if (text[i] === '}') depth--;
    }
    if (depth === 0) found.push(text.slice(open.lastIndex, i - 1));
  }
  return found;
}

/** Last non-empty capture of `re` (which must be global) in `text`. */
function lastCapture(re: RegExp, text: string): string | undefined {
  let last: string | undefined;
  for (const m of text.matchAll(re)) {
    if (m[1].trim()) last = m[1];
  }
  return last;
}

/** Trims decoration around an answer: `**18**`, `$18$`, a final full stop. */
function cleanAnswerText(text: string): string {
  let s = text.trim().replace(/^\*\*(.*)\*\*$/, '$1').trim();
  const math = /^\$([^$]*)\$\.?$/.exec(s);
  if (math) s = math[1].trim();
  return s.replace(/(?<!\.)\.$/, '').trim();
}

function answer(text: string, method: AnswerMethod): ExtractedAnswer {
  const cleaned = cleanAnswerText(text);
  return { text: cleaned, value: parseNumber(cleaned), method, fallback: method === 'last-number' };
}

/**
 * The final answer a solution text states. Tried in order: the last `#### x` line, the last
 * `\boxed{x}`, the last "Final answer: x", the last "The answer is x", and (unless disabled) the last
 * number in the text, flagged `fallback`.
 */
export function extractFinalAnswer(text: string, options: ExtractOptions = {}): ExtractedAnswer | undefined {
  const hash = lastCapture(/####[ \t]*([^\n]*)/g, text);
  if (hash !== undefined) return answer(hash, 'hash');
  const boxed = boxedContents(text).filter((b) => b.trim());
  if (boxed.length > 0) return answer(boxed[boxed.length - 1], 'boxed');
  const final = lastCapture(/final answer\s*(?:is)?\s*[:：]?[ \t]*([^\n]*)/gi, text);
  if (final !== undefined) return answer(final, 'final-answer');
  const answerIs = lastCapture(/\banswer is\s*[:：]?[ \t]*([^\n]*)/gi, text);
  if (answerIs !== undefined) return answer(answerIs, 'answer-is');
  if (options.allowFallback === false) return undefined;
  const numbers = text.match(ANY_NUMBER);
  return numbers ? answer(numbers[numbers.length - 1], 'last-number') : undefined;
}

// ---- comparison ----------------------------------------------------------------------------------

export type AnswerLike = string | number | FinalAnswer;

function numericValue(a: AnswerLike): number | undefined {
  if (typeof a === 'number') return Number.isFinite(a) ? a : undefined;
  if (typeof a === 'string') return parseNumber(a);
  return a.value ?? parseNumber(a.text);
}

function comparableText(a: AnswerLike): string {
  const text = typeof a === 'number' ? String(a) : typeof a === 'string' ? a : a.text;
  return plainFromLatex(text).toLowerCase().replace(/[\s$]/g, '').replace(/\.$/, '');
}

/**
 * True when two answers agree: numerically within relative tolerance `tolerance`
 * (|a-b| <= tolerance * max(|a|, |b|)) when both state a number, else as text (case, spaces, `$`
 * and a final full stop ignored).
 */
export function answersMatch(a: AnswerLike | undefined, b: AnswerLike | undefined, tolerance = 1e-6): boolean {
  if (a === undefined || b === undefined) return false;
  const x = numericValue(a);
  const y = numericValue(b);
  if (x !== undefined && y !== undefined) return x === y || Math.abs(x - y) <= tolerance * Math.max(Math.abs(x), Math.abs(y));
  if (x !== undefined || y !== undefined) return false;
  const s = comparableText(a);
  return s.length > 0 && s === comparableText(b);
}
