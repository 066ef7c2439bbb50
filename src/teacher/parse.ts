// Reading the teacher's text back: judge scores, plan steps, sub-questions and their answers.
// Teachers format loosely (markdown bold, "Step 1." vs "1)", stray tags), so each reader accepts the
// common variants and says plainly when it found nothing.

export const SCORE_MIN = -100;
export const SCORE_MAX = 100;

export interface JudgeScore {
  score: number;
  /** Which form the score was found in. */
  form: 'labelled' | 'json' | 'brackets' | 'last-line';
}

const SIGNED = String.raw`([-+\u2212\u2013]?\s*\d+(?:\.\d+)?)`;

function toScore(raw: string): number | undefined {
  const v = Number(raw.replace(/[\u2212\u2013]/g, '-').replace(/\s+/g, ''));
  return Number.isFinite(v) && v >= SCORE_MIN && v <= SCORE_MAX ? v : undefined;
}

function lastMatch(re: RegExp, text: string): RegExpExecArray | undefined {
  let last: RegExpExecArray | undefined;
  for (let m = re.exec(text); m; m = re.exec(text)) last = m;
  return last;
}

/**
 * The judge's score in [-100, 100], or undefined when none can be read (or it is out of range).
 * Tried in order, taking the last occurrence of each: "Score: 85" (also "**Score**: -20",
 * "score = 85/100", "Final score of 70"), `{"score": 85}`, `[[85]]`, and a last line that is only a
 * number.
 */
export function parseJudgeScore(text: string): JudgeScore | undefined {
  const plain = text.replace(/[*_`]/g, '');
  // The number must not run on ("-10" of "-100") nor be the start of a range ("-100 to 100").
  const end = String.raw`(?:\s*/\s*(\d+))?(?!\d|\.\d|\s*(?:to|-|\u2013)\s*[-+\u2212]?\d)`;
  const labelled = lastMatch(new RegExp(String.raw`\bscore\b\s*(?:\([^)\n]*\))?\s*(?:is|of|=|:|-)?\s*\[?\s*${SIGNED}${end}`, 'gi'), plain);
  if (labelled) {
    const s = scaled(labelled[1], labelled[2]);
    if (s !== undefined) return { score: s, form: 'labelled' };
  }
  const json = lastMatch(new RegExp(String.raw`"score"\s*:\s*"?${SIGNED}`, 'gi'), plain);
  if (json) {
    const s = toScore(json[1]);
    if (s !== undefined) return { score: s, form: 'json' };
  }
  const brackets = lastMatch(new RegExp(String.raw`\[\[\s*${SIGNED}\s*\]\]`, 'g'), plain);
  if (brackets) {
    const s = toScore(brackets[1]);
    if (s !== undefined) return { score: s, form: 'brackets' };
  }
  const lines = plain.split('\n').map((l) => l.trim()).filter(Boolean);
  const lastLine = lines[lines.length - 1];
  const bare = lastLine !== undefined ? new RegExp(String.raw`^${SIGNED}(?:\s*/\s*(\d+))?\.?$`).exec(lastLine) : null;
  if (bare) {
    const s = scaled(bare[1], bare[2]);
    if (s !== undefined) return { score: s, form: 'last-line' };
  }
  return undefined;
}

/** "7/10" -> 70: a score out of another scale is put on the 100 scale. */
function scaled(raw: string, outOf: string | undefined): number | undefined {
  if (outOf === undefined || Number(outOf) === 100) return toScore(raw);
  const den = Number(outOf);
  if (!(den > 0)) return undefined;
  const v = toScore(raw);
  return v === undefined || Math.abs(v) > den ? undefined : toScore(String((v / den) * 100));
}

/** Removes wrapping the teacher may add around a list: <plan> tags, code fences. */
function unwrap(text: string): string {
  return text
    .replace(/<\/?plan>/gi, '')
    .replace(/^```[a-z]*\s*$/gim, '')
    .replace(/\r\n?/g, '\n');
}

/** "**Step 1:** x", "Step 1. x", "1) x", "1. x", "- x" -> [number or undefined, x]. */
const STEP_LINE = /^\s*(?:[-*•]\s+)?(?:\*\*|__)?\s*(?:step\s*)?(\d{1,2})\s*(?:\*\*|__)?\s*[:.)\-–]\s*(?:\*\*|__)?\s*(.*)$/i;

/**
 * The steps of a plan, in order: numbered lines ("Step 1: ...", "1. ...", "1) ..."), with
 * unnumbered lines after a step joined to it. Text before the first step is ignored. When no line is
 * numbered, each bulleted line is a step. Empty when there is no list at all.
 */
export function parsePlanSteps(text: string): string[] {
  const lines = unwrap(text).split('\n');
  const steps: string[] = [];
  let numbered = false;
  for (const line of lines) {
    const m = STEP_LINE.exec(line);
    if (m) {
      numbered = true;
      steps.push(cleanItem(m[2]));
    } else if (numbered && line.trim() && steps.length > 0 && !/^\s*final answer/i.test(line)) {
      steps[steps.length - 1] = (steps[steps.length - 1] + ' ' + cleanItem(line)).trim();
    }
  }
  if (!numbered) {
    for (const line of lines) {
      const b = /^\s*[-*•]\s+(.+)$/.exec(line);
      if (b) steps.push(cleanItem(b[1]));
    }
  }
  return steps.filter((s) => s.length > 0);
}

function cleanItem(s: string): string {
  return s.replace(/\*\*|__/g, '').replace(/\s+/g, ' ').trim();
}

/** Matches a labelled line and returns its text, or undefined. */
type LineReader = (line: string) => string | undefined;

function reader(re: RegExp): LineReader {
  return (line) => {
    const m = re.exec(line);
    return m ? m[2] : undefined;
  };
}

const FINAL_LINE = /^\s*(?:\*\*|__|#+\s*)?\s*final answer/i;

/** Labelled items "Q1: ..." / "A1: ..." in order, continuation lines joined; stops at "Final answer". */
function labelledItems(text: string, read: LineReader): string[] {
  const items: string[] = [];
  for (const line of unwrap(text).split('\n')) {
    const item = read(line);
    if (item !== undefined) {
      items.push(cleanItem(item));
    } else if (items.length > 0 && FINAL_LINE.test(line)) {
      break;
    } else if (items.length > 0 && line.trim()) {
      items[items.length - 1] = (items[items.length - 1] + ' ' + cleanItem(line)).trim();
    }
  }
  return items;
}

const SUBQ_LINE = /^\s*(?:[-*•]\s+)?(?:\*\*|__)?\s*(?:Q|sub-?\s*question\s*)\s*(\d{1,2})\s*(?:\*\*|__)?\s*[:.)]\s*(?:\*\*|__)?\s*(.*)$/i;
const SUBA_LINE = /^\s*(?:[-*•]\s+)?(?:\*\*|__)?\s*(?:A|answer\s*)\s*(\d{1,2})\s*(?:\*\*|__)?\s*[:.)]\s*(?:\*\*|__)?\s*(.*)$/i;
const EXEC_STEP_LINE = /^\s*(?:\*\*|__|#+\s*)?\s*step\s*(\d{1,2})\s*(?:\*\*|__)?\s*[:.)]\s*(?:\*\*|__)?\s*(.*)$/i;

/** Sub-questions Q1..Qn; falls back to a numbered list ("1. ...") when no line says "Q1". */
export function parseSubQuestions(text: string): string[] {
  const items = labelledItems(text, reader(SUBQ_LINE)).filter((s) => s.length > 0);
  return items.length > 0 ? items : parsePlanSteps(text);
}

/** Answers A1..An in order, each without its label; stops at "Final answer". */
export function parseSubAnswers(text: string): string[] {
  return labelledItems(text, reader(SUBA_LINE)).filter((s) => s.length > 0);
}

/** The worked "Step k:" blocks of an executed plan, in order; stops at "Final answer". */
export function parseExecutedSteps(text: string): string[] {
  return labelledItems(text, reader(EXEC_STEP_LINE)).filter((s) => s.length > 0);
}
