// Sample generations in a readable list: the problem, the model's completion, and how it was judged
// (eval: correct or not against the gold answer; GRPO: the reward it got).
import type { SampleView } from '../worker/api';
import { el } from './dom';
import { significant } from './run-format';

function verdict(s: SampleView): HTMLElement {
  if (s.correct !== undefined) return el('span', { class: `verdict ${s.correct ? 'correct' : 'incorrect'}` }, s.correct ? '✓ correct' : '✗ incorrect');
  return el('span', { class: 'verdict' }, 'not judged');
}

function sample(s: SampleView, n: number): HTMLElement {
  const judged = s.correct === undefined ? '' : s.correct ? 'correct' : 'incorrect';
  return el(
    'li',
    { class: `sample ${judged}`, 'data-correct': s.correct === undefined ? null : String(s.correct) },
    el(
      'header',
      {},
      el('span', { class: 'num' }, `#${n}`),
      verdict(s),
      s.reward !== undefined && el('span', { class: 'reward', 'data-reward': s.reward }, `reward ${significant(s.reward, 3)}`),
      s.truncated && el('span', { class: 'badge truncated', title: 'The completion reached the token limit before it ended' }, 'truncated'),
    ),
    el('p', { class: 'prompt' }, el('span', { class: 'label' }, 'Problem'), s.prompt),
    el('div', { class: 'completion-block' }, el('span', { class: 'label' }, 'Completion'), el('pre', { class: 'completion', tabindex: 0 }, s.completion || '(empty)')),
    (s.gold !== undefined || s.predicted !== undefined) && el(
      'dl',
      { class: 'answers' },
      s.gold !== undefined && el('div', {}, el('dt', {}, 'Gold'), el('dd', { class: 'gold' }, s.gold)),
      s.predicted !== undefined && el('div', {}, el('dt', {}, 'Predicted'), el('dd', { class: s.predicted === null ? 'predicted none' : 'predicted' }, s.predicted ?? 'no final answer found')),
    ),
  );
}

/** A titled list of samples (at most `max`, with a note of how many were left out). */
export function renderSamples(title: string, samples: readonly SampleView[], max: number, kind: 'eval' | 'grpo'): HTMLElement {
  const shown = samples.slice(0, max);
  return el(
    'section',
    { class: 'samples', 'data-samples': kind, 'aria-label': title },
    el('h4', {}, title),
    shown.length === 0
      ? el('p', { class: 'muted' }, 'No samples were kept.')
      : el('ol', { class: 'sample-list' }, ...shown.map((s, i) => sample(s, i + 1))),
    samples.length > shown.length && el('p', { class: 'muted' }, `${samples.length - shown.length} more not shown.`),
  );
}
