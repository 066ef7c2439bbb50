// The eval before/after table: the run's first evaluation against its last, overall, pass@k and by
// number of plan steps of the gold solution.
import type { EvalSummary } from '../worker/api';
import { el } from './dom';
import { percent } from './run-format';

export interface EvalCell {
  /** The fraction shown (accuracy), or undefined when this eval has no such figure. */
  value?: number;
  text: string;
}

export interface EvalRow {
  key: string;
  label: string;
  before: EvalCell;
  after?: EvalCell;
  /** after − before in percentage points ("+12.5 pts"), when both exist. */
  change?: string;
}

const NONE: EvalCell = { text: '—' };

const ratio = (correct: number, n: number): EvalCell => ({ value: n > 0 ? correct / n : 0, text: `${correct}/${n} (${percent(n > 0 ? correct / n : 0)})` });

function accuracyCell(e: EvalSummary): EvalCell {
  const counted = Object.values(e.bySteps).reduce((a, [, c]) => a + c, 0);
  const correct = Object.keys(e.bySteps).length > 0 ? counted : Math.round(e.accuracy * e.n);
  return { value: e.accuracy, text: `${percent(e.accuracy)} (${correct}/${e.n})` };
}

function change(before: EvalCell, after?: EvalCell): string | undefined {
  if (after?.value === undefined || before.value === undefined) return undefined;
  const points = (after.value - before.value) * 100;
  return `${points > 0 ? '+' : points < 0 ? '−' : '±'}${Math.abs(points).toFixed(1)} pts`;
}

function row(key: string, label: string, first: EvalSummary, last: EvalSummary | undefined, cell: (e: EvalSummary) => EvalCell): EvalRow {
  const before = cell(first);
  const after = last && cell(last);
  return { key, label, before, ...(after ? { after, change: change(before, after) } : {}) };
}

/** Rows comparing the first eval with the last; `last` undefined (one eval so far) leaves the after column empty. */
export function evalComparison(first: EvalSummary, last?: EvalSummary): EvalRow[] {
  const rows = [row('accuracy', 'Accuracy (greedy)', first, last, accuracyCell)];
  const k = last?.passAtK?.k ?? first.passAtK?.k;
  if (k !== undefined) {
    rows.push(row('pass-at-k', `pass@${k}`, first, last, (e) => (e.passAtK ? { value: e.passAtK.value, text: percent(e.passAtK.value) } : NONE)));
  }
  const steps = [...new Set([...Object.keys(first.bySteps), ...Object.keys(last?.bySteps ?? {})].map(Number))].sort((a, b) => a - b);
  for (const s of steps) {
    rows.push(row(`steps-${s}`, `${s}-step problems`, first, last, (e) => (e.bySteps[s] ? ratio(e.bySteps[s][1], e.bySteps[s][0]) : NONE)));
  }
  return rows;
}

/** The table, or a note when the run has no eval yet. */
export function renderEvalTable(evals: readonly EvalSummary[]): HTMLElement {
  if (evals.length === 0) return el('p', { class: 'muted', id: 'watch-evals-empty' }, 'No evaluation yet: the run evaluates before training and at the end (with eval problems set).');
  const first = evals[0];
  const last = evals.length > 1 ? evals[evals.length - 1] : undefined;
  const cell = (c: EvalCell | undefined): HTMLElement => el('td', { class: 'num', 'data-value': c?.value }, (c ?? NONE).text);
  return el(
    'div',
    { class: 'table-scroll' },
    el(
      'table',
      { class: 'eval-compare' },
      el('caption', {}, last ? `Before (step ${first.step}) and after (step ${last.step}), ${first.n} held-out problems` : `Before training (step ${first.step}), ${first.n} held-out problems; the after column fills in at the next eval`),
      el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'Measure'), el('th', { scope: 'col', class: 'num' }, 'Before'), el('th', { scope: 'col', class: 'num' }, 'After'), el('th', { scope: 'col', class: 'num' }, 'Change'))),
      el(
        'tbody',
        {},
        ...evalComparison(first, last).map((r) =>
          el('tr', { 'data-row': r.key }, el('th', { scope: 'row' }, r.label), cell(r.before), cell(r.after), el('td', { class: 'num change' }, r.change ?? '—')),
        ),
      ),
    ),
  );
}
