// The stored datasets: counts and split, with Preview, rejections download and Delete.
import type { DatasetInfo } from '../worker/api';
import { FORMAT_LABELS } from './data-labels';
import { el, int } from './dom';

export interface DatasetActions {
  preview(d: DatasetInfo): void;
  downloadRejections(d: DatasetInfo): void;
  remove(d: DatasetInfo): void;
}

function button(text: string, label: string, onClick: () => void, className = ''): HTMLButtonElement {
  const b = el('button', { type: 'button', class: className || null, 'aria-label': label }, text);
  b.addEventListener('click', onClick);
  return b;
}

/** The date, with the time in a tooltip. */
function added(ms: number): HTMLElement {
  const at = new Date(ms);
  return el('time', { datetime: at.toISOString(), title: at.toLocaleString() }, at.toLocaleDateString(undefined, { dateStyle: 'medium' }));
}

function row(d: DatasetInfo, actions: DatasetActions): HTMLElement {
  const c = d.counts;
  return el(
    'tr',
    { 'data-dataset': d.id },
    el('th', { scope: 'row', class: 'name' }, d.name, el('span', { class: 'format' }, FORMAT_LABELS[d.format] ?? d.format)),
    el('td', { class: 'num', 'data-stat': 'trajectories', 'data-value': c.trajectories }, int(c.trajectories)),
    el('td', { class: 'num' }, int(c.problems)),
    el('td', { class: 'num' }, `${int(c.train)} / ${int(c.eval)}`),
    el('td', { class: 'num' }, int(d.rejected)),
    el('td', { class: 'when' }, added(d.createdAt)),
    el(
      'td',
      { class: 'row-actions' },
      button('Preview', `Preview dataset ${d.name}`, () => actions.preview(d)),
      d.rejected > 0 && button('Rejections', `Download the rejections of dataset ${d.name} (CSV)`, () => actions.downloadRejections(d)),
      button('Delete', `Delete dataset ${d.name}`, () => actions.remove(d), 'danger'),
    ),
  );
}

export function renderDatasetList(datasets: DatasetInfo[], actions: DatasetActions): HTMLElement {
  if (datasets.length === 0) return el('p', { class: 'muted', id: 'data-list-empty' }, 'No datasets stored yet. Import files above.');
  const head: [string, string][] = [
    ['Name and format', ''], ['Trajectories', 'num'], ['Problems', 'num'], ['Train / eval', 'num'], ['Rejected', 'num'], ['Added', ''], ['Actions', ''],
  ];
  return el(
    'div',
    { class: 'table-scroll' },
    el(
      'table',
      { class: 'datasets' },
      el('caption', { class: 'visually-hidden' }, 'Stored datasets'),
      el('thead', {}, el('tr', {}, ...head.map(([h, c]) => el('th', { scope: 'col', class: c || null }, h)))),
      el('tbody', {}, ...datasets.map((d) => row(d, actions))),
    ),
  );
}
