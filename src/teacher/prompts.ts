// The prompts the teacher is given. Each is an editable template with `{question}` and `{plan}`
// placeholders; a prompt set carries a version string that is recorded in every trajectory it made,
// together with a hash of its text, so edited prompts are never mistaken for the defaults.

import { hash64 } from '../data/hash';
import type { ChatMessage } from './types';

export interface PromptTemplate {
  /** Optional system message. */
  system?: string;
  /** The user message. */
  user: string;
}

export interface PromptSet {
  /** Recorded as `meta.promptVersion`; change it when you change the text. */
  version: string;
  /** Plan-Tuning, step 1: write a plan for {question} without solving it. */
  plan: PromptTemplate;
  /** Plan-Tuning, step 2: score {plan} for {question} in [-100, 100]. */
  judge: PromptTemplate;
  /** Plan-Tuning, step 3: carry out the best {plan} for {question} to a final answer. */
  execute: PromptTemplate;
  /** Sub-questions (arXiv 2402.01812), step 1: break {question} into Q1..Qn. */
  decompose: PromptTemplate;
  /** Sub-questions, step 2: answer the sub-questions in {plan} (Q1..Qn) as A1..An, then the final answer. */
  answer: PromptTemplate;
}

export type PromptName = Exclude<keyof PromptSet, 'version'>;
export type Placeholder = 'question' | 'plan';

export const PROMPT_NAMES: readonly PromptName[] = ['plan', 'judge', 'execute', 'decompose', 'answer'];

/** Placeholders each prompt must contain. */
export const REQUIRED_PLACEHOLDERS: Record<PromptName, readonly Placeholder[]> = {
  plan: ['question'],
  judge: ['question', 'plan'],
  execute: ['question', 'plan'],
  decompose: ['question'],
  answer: ['question', 'plan'],
};

const MATH_TEACHER = 'You are a careful, expert teacher of grade-school mathematics.';

export const DEFAULT_PROMPTS: PromptSet = {
  version: 'plantune-teacher-v1',
  plan: {
    system: MATH_TEACHER,
    user: `Write a plan for solving the problem below. Do not solve it and do not compute any numbers: list, in order, the steps a careful solver would take, one per line, as "Step 1: ...", "Step 2: ...". Each step says which quantity to find and from which given or earlier quantities. Make sure the plan respects every constraint the problem states or implies (units, rates, time spans, what exactly is asked). Use at most 8 steps and write nothing after the last step.

Problem: {question}`,
  },
  judge: {
    system: 'You are a strict grader of solution plans for math word problems.',
    user: `Grade the plan below for solving the problem. Do not solve the problem yourself.

Problem: {question}

Plan:
{plan}

Check the plan against every constraint the problem states explicitly and every constraint it implies: units and conversions, what exactly is asked, quantities that must not be counted twice or left out, the order of events. A plan that leads to the right answer by sound steps scores high; a plan that misses or misreads a constraint, assumes something unjustified, or answers a different question scores low.

Reply with at most two sentences of justification, then a last line of exactly this form, with an integer from -100 (useless or misleading) to 100 (complete and correct):
Score: <integer>`,
  },
  execute: {
    system: MATH_TEACHER,
    user: `Solve the problem by carrying out the plan, step by step. For each step write "Step k:" and do it, showing the arithmetic. If a step of the plan is wrong, do the right thing instead and say so. End with a last line of exactly this form:
Final answer: <number>

Problem: {question}

Plan:
{plan}`,
  },
  decompose: {
    system: MATH_TEACHER,
    user: `Break the problem below into the sub-questions that must be answered, in order, to reach its answer. Each sub-question asks for one quantity; the last one asks exactly what the problem asks. Do not answer them. Write one per line as "Q1: ...", "Q2: ...", and nothing else.

Problem: {question}`,
  },
  answer: {
    system: MATH_TEACHER,
    user: `Answer the sub-questions in order to solve the problem. Write one line per answer as "A1: ...", "A2: ...", showing the arithmetic, then an empty line, then a last line of exactly this form:
Final answer: <number>

Problem: {question}

Sub-questions:
{plan}`,
  },
};

/**
 * Fills `{question}` and `{plan}` in one pass (so a question that happens to contain "{plan}" is
 * left as written). Other braces are left alone.
 */
export function fillTemplate(template: string, values: Partial<Record<Placeholder, string>>): string {
  return template.replace(/\{(question|plan)\}/g, (whole, name: Placeholder) => values[name] ?? whole);
}

/** The chat messages of one prompt. */
export function renderPrompt(t: PromptTemplate, values: Partial<Record<Placeholder, string>>): ChatMessage[] {
  const messages: ChatMessage[] = [];
  if (t.system?.trim()) messages.push({ role: 'system', content: fillTemplate(t.system, values) });
  messages.push({ role: 'user', content: fillTemplate(t.user, values) });
  return messages;
}

/** A full prompt set from partial edits on top of the defaults. */
export function withPrompts(edits: Partial<PromptSet> | undefined, base: PromptSet = DEFAULT_PROMPTS): PromptSet {
  const out: PromptSet = { ...base, version: edits?.version ?? base.version };
  for (const name of PROMPT_NAMES) {
    const e = edits?.[name];
    if (e) out[name] = { ...base[name], ...e };
  }
  return out;
}

/** Problems with a prompt set, one message each; empty when it is usable. */
export function validatePrompts(p: PromptSet): string[] {
  const problems: string[] = [];
  if (!p.version?.trim()) problems.push('the prompt set needs a version string');
  for (const name of PROMPT_NAMES) {
    const t = p[name];
    if (!t || typeof t.user !== 'string' || !t.user.trim()) {
      problems.push(`prompt "${name}" has no user text`);
      continue;
    }
    const text = `${t.system ?? ''}\n${t.user}`;
    for (const ph of REQUIRED_PLACEHOLDERS[name]) {
      if (!text.includes(`{${ph}}`)) problems.push(`prompt "${name}" must contain {${ph}}`);
    }
  }
  return problems;
}

/** Hash of the prompt texts (not the version): equal prompts, equal hash. */
export function promptHash(p: PromptSet): string {
  return hash64(JSON.stringify(PROMPT_NAMES.map((n) => [n, p[n].system ?? '', p[n].user])));
}
