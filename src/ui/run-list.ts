// The stored runs: name and mode, status, step of total, dates; a run is chosen to show it in
// Watch and Export, and deleted (with its checkpoints and metrics) when it is not training.
import type { RunInfo } from '../worker/api';
import { el, int } from './dom';
import { MODE_LABELS, STATUS_LABELS } from './run-labels';

/** What the page knows about a run beyond the store: the live step, and whether it trains here or in another tab. */
export interface RunView {
  run: RunInfo;
  /** The latest step seen (live for a run training here, else the latest checkpoint's). */
  step: number;
  where: 'here' | 'elsewhere' | 'interrupted' | null;
}

export interface RunListActions {
  choose(run: RunInfo): void;
  remove(run: RunInfo): void;
}

function when(ms: number): HTMLElement {
  const at = new Date(ms);
  return el('time', { datetime: at.toISOString(), title: at.toLocaleString() }, at.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' }));
}

function statusCell(v: RunView): HTMLElement {
  const { status, error } = v.run;
  const note = v.where === 'elsewhere' ? 'training in another tab' : v.where === 'interrupted' ? 'interrupted: the page was closed mid-run' : null;
  return el(
    'td',
    { class: 'status-cell', 'data-stat': 'status', 'data-value': status },
    el('span', { class: `badge run-${status}` }, STATUS_LABELS[status] ?? status),
    note && el('span', { class: 'note' }, note),
    error && el('span', { class: 'note error' }, error),
  );
}

function row(v: RunView, chosen: string | null, actions: RunListActions): HTMLElement {
  const r = v.run;
  const isChosen = r.id === chosen;
  const pick = el('button', { type: 'button', class: 'link', 'aria-pressed': String(isChosen), 'aria-label': `Show run ${r.name}` }, r.name);
  pick.addEventListener('click', () => actions.choose(r));
  const training = v.where === 'here' || v.where === 'elsewhere';
  const remove = el('button', { type: 'button', class: 'danger', disabled: training, 'aria-label': `Delete run ${r.name}`, title: training ? 'Pause or stop the run first' : null }, 'Delete');
  remove.addEventListener('click', () => actions.remove(r));
  return el(
    'tr',
    { 'data-run': r.id, class: isChosen ? 'chosen' : null, 'aria-current': isChosen ? 'true' : null },
    el('th', { scope: 'row', class: 'name' }, pick, el('span', { class: 'format' }, MODE_LABELS[r.mode] ?? r.mode)),
    statusCell(v),
    el('td', { class: 'num', 'data-stat': 'step', 'data-value': v.step }, `${int(v.step)} / ${int(r.config.steps)}`),
    el('td', { class: 'when' }, when(r.createdAt)),
    el('td', { class: 'when' }, when(r.updatedAt)),
    el('td', { class: 'row-actions' }, remove),
  );
}

export function renderRunList(views: RunView[], chosen: string | null, actions: RunListActions): HTMLElement {
  if (views.length === 0) return el('p', { class: 'muted', id: 'run-list-empty' }, 'No runs yet: set one up above and press Start.');
  const head: [string, string][] = [['Name and mode', ''], ['Status', ''], ['Step', 'num'], ['Started', ''], ['Updated', ''], ['Actions', '']];
  return el(
    'div',
    { class: 'table-scroll' },
    el(
      'table',
      { class: 'runs' },
      el('caption', { class: 'visually-hidden' }, 'Training runs'),
      el('thead', {}, el('tr', {}, ...head.map(([h, c]) => el('th', { scope: 'col', class: c || null }, h)))),
      el('tbody', {}, ...views.map((v) => row(v, chosen, actions))),
    ),
  );
}
