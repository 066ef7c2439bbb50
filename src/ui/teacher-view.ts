// What the Teacher section shows of a job: its counters (asked, kept correct, wrong, failed, tokens),
// the progress line with the pace and ETA, the question rows that were skipped, the recent
// trajectories, the "Save as dataset" form, and the list of jobs.
import type { SkippedQuestion, TeacherCounters, TeacherJobInfo, TeacherJobStatus, TeacherResultView } from '../worker/api';
import { el, int, plural } from './dom';

export const STATUS_LABELS: Record<TeacherJobStatus, string> = {
  new: 'starting', running: 'running', paused: 'paused', cancelled: 'cancelled', stopped: 'stopped', done: 'done', interrupted: 'interrupted',
};

/** One labelled number; `data-stat` / `data-value` let tests read it without parsing "1,319". */
function stat(label: string, key: string, value: number, text: string, tone = ''): HTMLElement {
  return el('div', { class: `stat ${tone}`.trim() }, el('dt', {}, label), el('dd', { 'data-stat': key, 'data-value': value }, text));
}

export function renderCounters(c: TeacherCounters): HTMLElement {
  const tokens = c.usage.promptTokens + c.usage.completionTokens;
  return el(
    'dl',
    { class: 'stats teacher-counters', 'aria-label': 'Job counters' },
    stat('Asked', 'done', c.done, `${int(c.done)} / ${int(c.total)}`),
    stat('Kept correct', 'correct', c.correct, int(c.correct), c.correct > 0 ? 'good' : ''),
    stat('Wrong', 'wrong', c.wrong, int(c.wrong)),
    stat('Failed', 'failed', c.failed, int(c.failed), c.failed > 0 ? 'bad' : ''),
    stat('Tokens', 'tokens', tokens, int(tokens)),
  );
}

/** 75 s -> "1m15s". */
export function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

export function progressText(c: TeacherCounters, perMinute?: number, etaMs?: number): string {
  const parts = [`${int(c.done)} of ${plural(c.total, 'question')}`];
  if (perMinute !== undefined) parts.push(`${perMinute.toFixed(1)} questions/min`);
  if (etaMs !== undefined && c.done < c.total) parts.push(`ETA ${duration(etaMs)}`);
  return parts.join(' · ');
}

export function renderSkipped(skipped: SkippedQuestion[], total: number): HTMLElement | null {
  if (total === 0) return null;
  const caption = skipped.length < total ? `Skipped question rows: the first ${int(skipped.length)} of ${int(total)}` : `Skipped question rows (${int(total)})`;
  return el(
    'div',
    { class: 'table-scroll' },
    el(
      'table',
      { class: 'rejections teacher-skipped' },
      el('caption', {}, caption),
      el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'File'), el('th', { scope: 'col' }, 'Line'), el('th', { scope: 'col' }, 'Why'))),
      el('tbody', {}, ...skipped.map((s) => el('tr', {}, el('td', {}, s.file), el('td', { class: 'num' }, s.line), el('td', { class: 'reason' }, s.reason)))),
    ),
  );
}

function verdict(t: TeacherResultView['trajectories'][number], gold: string | undefined): HTMLElement {
  const label = t.correct === null ? 'unscored' : t.correct ? 'correct' : 'wrong';
  return el(
    'div',
    { class: 'teacher-trajectory' },
    el('ol', { class: 'plan' }, ...t.plan.map((s) => el('li', {}, el('span', { class: 'subq' }, s)))),
    el('p', { class: 'final' }, el('span', { class: `badge ${label}` }, label), ` teacher: ${t.answer || '—'}`, gold !== undefined ? ` · gold: ${gold}` : ''),
  );
}

export function renderResults(results: TeacherResultView[]): HTMLElement {
  if (results.length === 0) return el('p', { class: 'muted' }, 'No question finished yet.');
  return el(
    'div',
    { class: 'trajectories' },
    ...results.map((r) =>
      el(
        'article',
        { class: `trajectory ${r.status}`, 'data-question': r.questionIndex },
        el('header', {}, el('span', { class: 'num' }, `#${r.questionIndex + 1}`), r.status === 'failed' && el('span', { class: 'badge failed' }, 'failed')),
        el('p', { class: 'question' }, el('span', { class: 'label' }, 'Question'), r.question),
        ...r.trajectories.map((t) => verdict(t, r.gold)),
        r.failure !== undefined && el('p', { class: 'error' }, r.failure),
      ),
    ),
  );
}

export interface JobActions {
  show(job: TeacherJobInfo): void;
  remove(job: TeacherJobInfo): void;
}

function jobRow(j: TeacherJobInfo, current: string | null, actions: JobActions): HTMLElement {
  const button = (text: string, label: string, onClick: () => void, className = '') => {
    const b = el('button', { type: 'button', class: className || null, 'aria-label': label }, text);
    b.addEventListener('click', onClick);
    return b;
  };
  const c = j.counters;
  return el(
    'tr',
    { 'data-job': j.id, class: j.id === current ? 'current' : null },
    el('th', { scope: 'row', class: 'name' }, j.name, el('span', { class: 'format' }, `${j.teacher.model} · ${j.method === 'plan' ? `best of ${j.settings.n}` : `${j.settings.n} decomposition(s)`}`)),
    el('td', { 'data-stat': 'status' }, STATUS_LABELS[j.status]),
    el('td', { class: 'num' }, `${int(c.done)} / ${int(c.total)}`),
    el('td', { class: 'num' }, `${int(c.correct)} / ${int(c.wrong)} / ${int(c.failed)}`),
    el('td', {}, j.savedDatasets.map((d) => d.name).join(', ') || '—'),
    el(
      'td',
      { class: 'row-actions' },
      j.id !== current && button('Show', `Show teacher job ${j.name}`, () => actions.show(j)),
      !j.active && button('Delete', `Delete teacher job ${j.name}`, () => actions.remove(j), 'danger'),
    ),
  );
}

export function renderJobs(jobs: TeacherJobInfo[], current: string | null, actions: JobActions): HTMLElement {
  if (jobs.length === 0) return el('p', { class: 'muted', id: 'teacher-jobs-empty' }, 'No teacher job yet.');
  const head: [string, string][] = [['Job', ''], ['Status', ''], ['Asked', 'num'], ['Correct / wrong / failed', 'num'], ['Saved as', ''], ['Actions', '']];
  return el(
    'div',
    { class: 'table-scroll' },
    el(
      'table',
      { class: 'teacher-jobs' },
      el('caption', { class: 'visually-hidden' }, 'Teacher jobs'),
      el('thead', {}, el('tr', {}, ...head.map(([h, c]) => el('th', { scope: 'col', class: c || null }, h)))),
      el('tbody', {}, ...jobs.map((j) => jobRow(j, current, actions))),
    ),
  );
}
