// The chosen model at a glance: architecture, size, shape, tokenizer and files.
import type { ModelInfo, ModelRef } from '../worker/api';
import { bytes, el, int, plural } from './dom';

/** 1_250_432 -> "1.25 M", 124_439_808 -> "124 M", 12_345 -> "12.3 k". */
export function paramCount(n: number): string {
  const [value, unit] = n >= 1e9 ? [n / 1e9, 'B'] : n >= 1e6 ? [n / 1e6, 'M'] : n >= 1e3 ? [n / 1e3, 'k'] : [n, ''];
  if (!unit) return String(n);
  return `${value.toFixed(value < 10 ? 2 : value < 100 ? 1 : 0)} ${unit}`;
}

/** A ref as a stable key (selection, data attributes). */
export function refKey(ref: ModelRef): string {
  return ref.kind === 'default' ? 'default' : ref.kind === 'stored' ? `stored:${ref.id}` : `dir:${ref.dir}`;
}

export const modelSize = (m: ModelInfo): number => m.files.reduce((n, f) => n + f.bytes, 0);

function stat(key: string, label: string, text: string, value: string | number = text): HTMLElement {
  return el('div', { class: 'stat', 'data-stat': key, 'data-value': value }, el('dt', {}, label), el('dd', {}, text));
}

export function renderModelInfo(m: ModelInfo): HTMLElement {
  const heads = m.kvHeads === m.heads ? int(m.heads) : `${int(m.heads)} (${int(m.kvHeads)} kv)`;
  const files = el(
    'details',
    { class: 'model-files' },
    el('summary', {}, `Files: ${plural(m.files.length, 'file')}, ${bytes(modelSize(m))}`),
    el('ul', {}, ...m.files.map((f) => el('li', { 'data-file': f.name }, el('code', {}, f.name), ` ${bytes(f.bytes)}`))),
  );
  return el(
    'div',
    { class: 'model-card', 'data-model': refKey(m.ref) },
    el('h3', { class: 'model-name' }, m.name, m.ref.kind === 'default' && el('span', { class: 'badge builtin' }, 'built in')),
    el(
      'dl',
      { class: 'stats' },
      stat('architecture', 'Architecture', m.architecture),
      stat('params', 'Parameters', paramCount(m.params), m.params),
      stat('layers', 'Layers', int(m.layers), m.layers),
      stat('hidden', 'Hidden size', int(m.hidden), m.hidden),
      stat('heads', 'Attention heads', heads, m.heads),
      stat('vocab', 'Vocabulary', int(m.vocab), m.vocab),
      stat('context', 'Context', `${int(m.context)} tokens`, m.context),
    ),
    el('p', { class: 'muted model-extra' }, `Tokenizer: ${m.tokenizer}. ${m.tiedEmbeddings ? 'Input and output embeddings are tied.' : 'Separate input and output embeddings.'}`),
    files,
  );
}
