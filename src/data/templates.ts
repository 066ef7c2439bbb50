// Prompt/completion rendering of a Trajectory, and the inverse: reading a (model-generated) completion
// back into plan steps and an answer. The prompt is the same for every style; the completion's first
// line tells the style apart. Every completion ends with the final-answer line `#### <answer>`
// (GSM8K's own marker, which `extractFinalAnswer` tries first).
//
//   plan-then-solve         socratic               subq-only              direct
//   Plan:                   Q1: <sub-question>     Q1: <sub-question>     #### 18
//   1. <sub-question>       A1: <sub-answer>       Q2: <sub-question>
//   2. <sub-question>       Q2: <sub-question>     #### 18
//   Solution:               A2: <sub-answer>
//   1. <sub-answer>         #### 18
//   2. <sub-answer>
//   #### 18
//
// In plan-then-solve the solution lists the sub-answers numbered like the plan when every step has
// one; otherwise it is the trajectory's solution text (without its final-answer line). Step texts are
// put on one line, and GSM8K calculator annotations are stripped unless `keepAnnotations`.

import { extractFinalAnswer, type ExtractedAnswer } from './answers';
import { stripCalculatorAnnotations } from './formats/gsm8k-answer';
import type { PlanStep, Trajectory } from './trajectory';

export type TemplateStyle = 'plan-then-solve' | 'socratic' | 'subq-only' | 'direct';
export const TEMPLATE_STYLES: readonly TemplateStyle[] = ['plan-then-solve', 'socratic', 'subq-only', 'direct'];

export interface RenderOptions {
  /** Keep GSM8K calculator annotations such as `<<48/2=24>>` (default false: stripped). */
  keepAnnotations?: boolean;
}

export interface RenderedExample {
  prompt: string;
  completion: string;
}

export const FINAL_ANSWER_MARKER = '####';
const PROMPT_LABEL = 'Question: ';

export function renderPrompt(question: string): string {
  return `${PROMPT_LABEL}${question.trim()}\n`;
}

/** The question inside a prompt made by `renderPrompt`; any other prompt is returned trimmed. */
export function parsePrompt(prompt: string): string {
  const text = prompt.trim();
  return text.startsWith(PROMPT_LABEL.trim()) ? text.slice(PROMPT_LABEL.trim().length).trim() : text;
}

/** A step or answer as it appears in a completion: on one line, annotations stripped unless kept. */
export function stepText(text: string, options: RenderOptions = {}): string {
  const plain = options.keepAnnotations ? text : stripCalculatorAnnotations(text);
  return plain.replace(/\s*\n\s*/g, ' ').trim();
}

/** Solution text without its final-answer lines or blank lines. */
function solutionBody(solution: string, options: RenderOptions): string[] {
  return solution
    .split('\n')
    .filter((l) => !/^\s*(?:####|final answer\s*:)/i.test(l))
    .map((l) => (options.keepAnnotations ? l : stripCalculatorAnnotations(l)).trim())
    .filter(Boolean);
}

export function renderCompletion(
  t: Pick<Trajectory, 'plan' | 'solution' | 'finalAnswer'>,
  style: TemplateStyle,
  options: RenderOptions = {},
): string {
  const lines: string[] = [];
  const steps = t.plan.map((s) => ({ q: stepText(s.subQuestion, options), a: s.subAnswer ? stepText(s.subAnswer, options) : '' }));
  if (style === 'plan-then-solve') {
    if (steps.length > 0) lines.push('Plan:', ...steps.map((s, i) => `${i + 1}. ${s.q}`));
    const solution = steps.length > 0 && steps.every((s) => s.a) ? steps.map((s, i) => `${i + 1}. ${s.a}`) : solutionBody(t.solution, options);
    if (solution.length > 0) lines.push('Solution:', ...solution);
  } else if (style === 'socratic' || style === 'subq-only') {
    steps.forEach((s, i) => {
      lines.push(`Q${i + 1}: ${s.q}`);
      if (style === 'socratic' && s.a) lines.push(`A${i + 1}: ${s.a}`);
    });
  }
  lines.push(`${FINAL_ANSWER_MARKER} ${stepText(t.finalAnswer.text, options)}`);
  return lines.join('\n');
}

export function renderExample(t: Trajectory, style: TemplateStyle, options: RenderOptions = {}): RenderedExample {
  return { prompt: renderPrompt(t.question), completion: renderCompletion(t, style, options) };
}

// ---- reading a completion back -------------------------------------------------------------------

export interface ParsedCompletion {
  /** Steps in the order written; `subAnswer` present when the completion gives one. */
  plan: PlanStep[];
  /** The free solution text of a plan-then-solve completion (empty otherwise). */
  solution: string;
  /** The final answer (`####` first; no last-number fallback). */
  answer?: ExtractedAnswer;
  /** Which template's syntax the completion uses; undefined when it follows none. */
  style?: TemplateStyle;
  /** Steps that are well formed in that syntax: non-empty, and with their answer line in socratic. */
  wellFormedSteps: number;
}

const NUMBERED = /^(\d+)\.\s+(.*)$/;
const Q_LINE = /^Q(\d+):\s*(.*)$/;
const A_LINE = /^A(\d+):\s*(.*)$/;

function parsePlanThenSolve(lines: string[]): Pick<ParsedCompletion, 'plan' | 'solution' | 'wellFormedSteps'> {
  const planItems: string[] = [];
  const solution: string[] = [];
  let section: 'plan' | 'solution' | undefined;
  for (const line of lines) {
    if (/^plan:$/i.test(line)) section = 'plan';
    else if (/^solution:$/i.test(line)) section = 'solution';
    else if (section === 'plan') {
      const m = NUMBERED.exec(line);
      if (m) planItems.push(m[2].trim());
    } else if (section === 'solution' && line) solution.push(line);
  }
  const numbered = solution.map((l) => NUMBERED.exec(l));
  const answered = planItems.length > 0 && numbered.length === planItems.length && numbered.every(Boolean);
  const plan = planItems.map((subQuestion, i) => (answered ? { subQuestion, subAnswer: (numbered[i] as RegExpExecArray)[2].trim() } : { subQuestion }));
  return { plan, solution: answered ? '' : solution.join('\n'), wellFormedSteps: planItems.length };
}

function parseQuestionLines(lines: string[]): Pick<ParsedCompletion, 'plan' | 'style' | 'wellFormedSteps'> {
  const questions = new Map<number, string>();
  const answers = new Map<number, string>();
  for (const line of lines) {
    const q = Q_LINE.exec(line);
    const a = A_LINE.exec(line);
    if (q) questions.set(Number(q[1]), q[2].trim());
    else if (a) answers.set(Number(a[1]), a[2].trim());
  }
  if (questions.size === 0) return { plan: [], wellFormedSteps: 0 };
  const socratic = answers.size > 0;
  const plan: PlanStep[] = [...questions].map(([n, subQuestion]) => {
    const subAnswer = answers.get(n);
    return subAnswer ? { subQuestion, subAnswer } : { subQuestion };
  });
  const wellFormedSteps = plan.filter((s) => s.subQuestion && (!socratic || s.subAnswer)).length;
  return { plan, style: socratic ? 'socratic' : 'subq-only', wellFormedSteps };
}

/** Reads a completion in any of the template syntaxes back into plan steps and an answer. */
export function parseCompletion(text: string): ParsedCompletion {
  const lines = text.split('\n').map((l) => l.trim());
  const end = lines.findIndex((l) => l.startsWith(FINAL_ANSWER_MARKER));
  const body = end >= 0 ? lines.slice(0, end) : lines;
  const answer = extractFinalAnswer(text, { allowFallback: false });
  if (body.some((l) => /^(?:plan|solution):$/i.test(l))) {
    return { ...parsePlanThenSolve(body), answer, style: 'plan-then-solve' };
  }
  const q = parseQuestionLines(body);
  if (q.plan.length > 0) return { ...q, solution: '', answer };
  const direct = answer !== undefined && body.every((l) => !l);
  return { plan: [], solution: '', answer, style: direct ? 'direct' : undefined, wellFormedSteps: 0 };
}
