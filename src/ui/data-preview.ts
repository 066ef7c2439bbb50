// A readable preview of stored trajectories: the question, the numbered plan (sub-question, then its
// worked answer) and the final answer. GSM8K calculator annotations (<<48/2=24>>) are shown dimmed.
import type { TrajectoryPreview } from '../worker/api';
import { el, type Child } from './dom';

/** Text with each `<<…>>` annotation in a dimmed span (kept: it is what is stored). */
function withAnnotations(text: string): Child[] {
  return text.split(/(<<[^<>]*>>)/).filter(Boolean).map((part) => (part.startsWith('<<') ? el('span', { class: 'calc', title: 'calculator annotation' }, part) : part));
}

function step(s: TrajectoryPreview['plan'][number]): HTMLElement {
  return el(
    'li',
    {},
    el('span', { class: 'subq' }, ...withAnnotations(s.subQuestion)),
    s.subAnswer !== undefined && el('span', { class: 'suba' }, el('span', { class: 'visually-hidden' }, 'Answer: '), ...withAnnotations(s.subAnswer)),
  );
}

function trajectory(t: TrajectoryPreview, n: number): HTMLElement {
  const where = t.file !== undefined ? `${t.file}${t.line !== undefined ? ` line ${t.line}` : ''}` : t.id;
  return el(
    'article',
    { class: 'trajectory', 'data-id': t.id },
    el('header', {}, el('span', { class: 'num' }, `#${n}`), el('span', { class: `badge ${t.split}` }, t.split), el('span', { class: 'muted' }, where)),
    el('p', { class: 'question' }, el('span', { class: 'label' }, 'Question'), t.question),
    t.plan.length > 0
      ? el('div', { class: 'plan' }, el('span', { class: 'label' }, `Plan (${t.plan.length} steps)`), el('ol', {}, ...t.plan.map(step)))
      : el('p', { class: 'muted' }, 'No plan steps (a direct answer).'),
    el('p', { class: 'final' }, el('span', { class: 'label' }, 'Final answer'), el('strong', {}, t.finalAnswer)),
  );
}

export function renderPreview(title: string, rows: TrajectoryPreview[]): HTMLElement {
  return el(
    'div',
    { class: 'preview' },
    el('h3', {}, title),
    rows.length === 0 ? el('p', { class: 'muted' }, 'This dataset has no trajectories.') : el('div', { class: 'trajectories' }, ...rows.map((t, i) => trajectory(t, i + 1))),
  );
}
