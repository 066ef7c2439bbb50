// The models to choose from: the built-in one and those stored in this browser, as a radio group
// in a table (arrow keys move the choice), with Delete for stored ones.
import type { ModelInfo, ModelRef, StoredModelInfo } from '../worker/api';
import { bytes, el } from './dom';
import { modelSize, paramCount, refKey } from './model-info';

export interface ModelListActions {
  choose(ref: ModelRef): void;
  remove(m: StoredModelInfo): void;
}

/** The date, with the time in a tooltip. */
function added(ms: number): HTMLElement {
  const at = new Date(ms);
  return el('time', { datetime: at.toISOString(), title: at.toLocaleString() }, at.toLocaleDateString(undefined, { dateStyle: 'medium' }));
}

function row(m: ModelInfo, ref: ModelRef, chosen: string, actions: ModelListActions, stored?: StoredModelInfo): HTMLElement {
  const key = refKey(ref);
  const id = `model-choice-${key.replace(/[^\w-]/g, '_')}`;
  const radio = el('input', { type: 'radio', name: 'model-choice', id, value: key, checked: key === chosen });
  radio.addEventListener('change', () => actions.choose(ref));
  const remove = stored && el('button', { type: 'button', class: 'danger', 'aria-label': `Delete model ${m.name}` }, 'Delete');
  remove?.addEventListener('click', () => actions.remove(stored!));
  return el(
    'tr',
    { 'data-model': key, class: key === chosen ? 'chosen' : null },
    el('td', { class: 'pick' }, radio),
    el('th', { scope: 'row', class: 'name' }, el('label', { for: id }, m.name), el('span', { class: 'format' }, stored ? `${m.architecture} · from ${stored.source}` : m.architecture)),
    el('td', { class: 'num', 'data-stat': 'params', 'data-value': m.params }, paramCount(m.params)),
    el('td', { class: 'num' }, bytes(modelSize(m))),
    el('td', { class: 'when' }, stored ? added(stored.createdAt) : 'built in'),
    el('td', { class: 'row-actions' }, remove),
  );
}

/** `builtIn` is null while the default model is still being read (or could not be). */
export function renderModelList(builtIn: ModelInfo | null, stored: StoredModelInfo[], chosen: ModelRef, actions: ModelListActions): HTMLElement {
  const key = refKey(chosen);
  const head = [['Use', ''], ['Name and architecture', ''], ['Parameters', 'num'], ['Size', 'num'], ['Added', ''], ['Actions', '']];
  return el(
    'div',
    { class: 'table-scroll' },
    el(
      'table',
      { class: 'models' },
      el('caption', { class: 'visually-hidden' }, 'Models to fine-tune'),
      el('thead', {}, el('tr', {}, ...head.map(([h, c]) => el('th', { scope: 'col', class: c || null }, h)))),
      el(
        'tbody',
        {},
        builtIn && row(builtIn, { kind: 'default' }, key, actions),
        ...stored.map((m) => row(m, { kind: 'stored', id: m.id }, key, actions, m)),
      ),
    ),
    stored.length === 0 && el('p', { class: 'muted', id: 'model-list-empty' }, 'No models stored yet: add one below.'),
  );
}
