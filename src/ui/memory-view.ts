// The memory a run would take on this adapter (the worker's estimate), and what to reduce when it does not fit.
import type { MemoryEstimate } from '../worker/api';
import { bytes, el } from './dom';

export function renderMemory(m: MemoryEstimate): HTMLElement {
  const parts: [string, number][] = [
    ['parameters', m.params], ['gradients', m.grads], ['AdamW moments', m.moments], ['activations', m.activations],
    [`generation (${m.genRows} sequences at once)`, m.generation],
  ];
  const limits = `Largest buffer ${bytes(m.largestBuffer)} (this GPU allows ${bytes(m.limits.maxBufferSize)}), largest binding ${bytes(m.largestBinding)} (allows ${bytes(m.limits.maxStorageBufferBindingSize)}).`;
  return el(
    'div',
    { class: `memory-estimate ${m.fits ? 'fits' : 'too-big'}`, 'data-fits': String(m.fits), 'data-total': m.total },
    el(
      'p',
      {},
      el('strong', {}, m.fits ? `Fits: about ${bytes(m.total)} of GPU memory` : `Does not fit on this GPU (about ${bytes(m.total)})`),
      ` — ${parts.map(([k, v]) => `${k} ${bytes(v)}`).join(', ')}.`,
    ),
    el('p', { class: 'muted' }, limits),
    !m.fits && el('ul', { class: 'memory-problems' }, ...m.problems.map((p) => el('li', {}, p))),
  );
}
