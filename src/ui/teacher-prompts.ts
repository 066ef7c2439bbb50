// The Teacher section's prompt templates: the five prompts (system and user text each) and the set's
// version, editable, kept in this browser between visits, with a reset to the defaults of
// src/teacher/prompts.ts. Every trajectory records the version and a hash of the texts.
import { DEFAULT_PROMPTS, PROMPT_NAMES, type PromptName, type PromptSet, REQUIRED_PLACEHOLDERS, validatePrompts } from '../teacher/prompts';
import { el } from './dom';

const STORAGE_KEY = 'plantune.teacher.prompts';

const PURPOSE: Record<PromptName, string> = {
  plan: 'Plan best-of-n, step 1: a numbered plan, no arithmetic.',
  judge: 'Plan best-of-n, step 2: a justification, then “Score: <-100..100>”.',
  execute: 'Plan best-of-n, step 3: carry out the best plan, then “Final answer: <number>”.',
  decompose: 'Sub-questions, step 1: Q1, Q2, … the last asking what the problem asks.',
  answer: 'Sub-questions, step 2: A1, A2, …, then “Final answer: <number>”.',
};

export interface PromptEditor {
  /** The edited set, or the problems that make it unusable (each naming the prompt). */
  read(): PromptSet | string[];
}

function saved(): PromptSet {
  try {
    const value = JSON.parse(localStorage.getItem(STORAGE_KEY) ?? 'null') as PromptSet | null;
    if (value && validatePrompts(value).length === 0) return value;
  } catch {
    // unreadable: the defaults
  }
  return DEFAULT_PROMPTS;
}

export function initPromptEditor(container: HTMLElement, summary: HTMLElement): PromptEditor {
  const version = el('input', { id: 'teacher-prompt-version', type: 'text', autocomplete: 'off', spellcheck: 'false', 'aria-describedby': 'teacher-prompt-version-help' });
  const areas = new Map<PromptName, { system: HTMLTextAreaElement; user: HTMLTextAreaElement }>();
  const problems = el('ul', { class: 'prompt-problems error', 'aria-live': 'polite' });
  const reset = el('button', { type: 'button', id: 'teacher-prompts-reset' }, 'Reset to defaults');

  const blocks = PROMPT_NAMES.map((name) => {
    const id = `teacher-prompt-${name}`;
    const system = el('textarea', { id: `${id}-system`, rows: 2, spellcheck: 'false' });
    const user = el('textarea', { id: `${id}-user`, rows: 6, spellcheck: 'false', 'aria-describedby': `${id}-help` });
    areas.set(name, { system, user });
    const needs = REQUIRED_PLACEHOLDERS[name].map((p) => `{${p}}`).join(' and ');
    return el(
      'fieldset',
      { class: 'prompt', 'data-prompt': name },
      el('legend', {}, name),
      el('small', { id: `${id}-help` }, `${PURPOSE[name]} Must contain ${needs}.`),
      el('label', { for: system.id }, 'System'), system,
      el('label', { for: user.id }, 'User'), user,
    );
  });

  const show = (p: PromptSet): void => {
    version.value = p.version;
    for (const name of PROMPT_NAMES) {
      const a = areas.get(name)!;
      a.system.value = p[name].system ?? '';
      a.user.value = p[name].user;
    }
  };

  const current = (): PromptSet => {
    const p: PromptSet = { ...DEFAULT_PROMPTS, version: version.value.trim() };
    for (const name of PROMPT_NAMES) {
      const a = areas.get(name)!;
      p[name] = { ...(a.system.value.trim() ? { system: a.system.value } : {}), user: a.user.value };
    }
    return p;
  };

  const label = (p: PromptSet): void => {
    const same = PROMPT_NAMES.every((n) => (p[n].system ?? '') === (DEFAULT_PROMPTS[n].system ?? '') && p[n].user === DEFAULT_PROMPTS[n].user);
    summary.textContent = `Prompt templates (${p.version || 'no version'}${same ? ', the defaults' : ', edited'})`;
  };

  container.replaceChildren(
    el('div', { class: 'field' }, el('label', { for: version.id }, 'Version'), version, el('small', { id: 'teacher-prompt-version-help' }, 'Recorded in every trajectory, with a hash of the texts: change it when you change them.')),
    ...blocks,
    problems,
    reset,
  );
  show(saved());
  label(current());

  container.addEventListener('input', () => {
    const p = current();
    label(p);
    problems.replaceChildren();
    localStorage.setItem(STORAGE_KEY, JSON.stringify(p));
  });
  reset.addEventListener('click', () => {
    show(DEFAULT_PROMPTS);
    label(DEFAULT_PROMPTS);
    problems.replaceChildren();
    localStorage.removeItem(STORAGE_KEY);
  });

  return {
    read() {
      const p = current();
      const found = validatePrompts(p);
      problems.replaceChildren(...found.map((m) => el('li', {}, m)));
      return found.length ? found : p;
    },
  };
}
