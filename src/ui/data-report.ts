// The import report: what was stored, the split and its contamination status, then per file the
// detected format, the counts and the rejected rows (line and reason).
import type { Rejection } from '../data/rejection';
import type { FileImportReport, ImportResult } from '../worker/api';
import { FORMAT_LABELS, reasonLabel } from './data-labels';
import { bytes, el, int, plural } from './dom';

/** One labelled number; `data-stat` / `data-value` let tests read it without parsing "1,319". */
function stat(label: string, key: string, value: number, tone = ''): HTMLElement {
  return el('div', { class: `stat ${tone}`.trim() }, el('dt', {}, label), el('dd', { 'data-stat': key, 'data-value': value }, int(value)));
}

function formatText(r: FileImportReport): string {
  if (!r.format) return 'not recognised';
  return `${FORMAT_LABELS[r.format]} (${r.format}), ${r.formatDetected ? 'detected' : 'as chosen'}`;
}

function rejectionTable(r: FileImportReport): HTMLElement {
  const shown = r.rejections.length;
  const caption = shown < r.rejected ? `Rejected rows: the first ${int(shown)} of ${int(r.rejected)} (all are in the CSV)` : 'Rejected rows';
  return el(
    'div',
    { class: 'table-scroll' },
    el(
      'table',
      { class: 'rejections' },
      el('caption', {}, caption),
      el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'Line'), el('th', { scope: 'col' }, 'Problem'), el('th', { scope: 'col' }, 'Details'))),
      el('tbody', {}, ...r.rejections.map(rejectionRow)),
    ),
  );
}

function rejectionRow(x: Rejection): HTMLElement {
  const where = x.line === undefined ? '—' : x.index !== undefined ? `${x.line} (element ${x.index})` : String(x.line);
  return el('tr', { 'data-line': x.line }, el('td', { class: 'num' }, where), el('td', {}, reasonLabel(x.code)), el('td', { class: 'reason' }, x.reason));
}

function fileReport(r: FileImportReport): HTMLElement {
  const reasons = Object.entries(r.rejectedByReason).map(([code, n]) => el('li', { class: 'chip' }, `${reasonLabel(code)} × ${int(n)}`));
  return el(
    'article',
    { class: 'file-report', 'data-file': r.file },
    el('h4', {}, r.file, el('span', { class: 'muted' }, ` · ${bytes(r.bytes)}`)),
    el('p', { class: 'format' }, 'Format: ', el('strong', { 'data-stat': 'format', 'data-value': r.format ?? '' }, formatText(r))),
    el(
      'dl',
      { class: 'stats' },
      stat('Rows', 'rows', r.rows),
      stat('Kept', 'kept', r.kept, r.kept > 0 ? 'good' : ''),
      stat('Rejected', 'rejected', r.rejected, r.rejected > 0 ? 'bad' : ''),
      stat('Duplicates', 'duplicates', r.duplicates),
    ),
    reasons.length > 0 && el('ul', { class: 'chips', 'aria-label': 'Rejected rows by reason' }, ...reasons),
    ...r.fileErrors.map((e) => el('p', { class: 'error file-error' }, el('strong', {}, 'File error: '), e.reason)),
    r.rejections.length > 0 && rejectionTable(r),
  );
}

function splitText(result: ImportResult): string {
  const { counts: c } = result;
  const how = result.split.kind === 'file'
    ? `eval is all of ${result.split.file}`
    : `${Math.round(result.split.evalFraction * 100)}% of problems held out for eval, seed ${result.split.seed}`;
  return `${plural(c.trajectories, 'trajectory', 'trajectories')} about ${plural(c.problems, 'problem')}: ${int(c.train)} train, ${int(c.eval)} eval (${how}).`;
}

function contaminationLines(result: ImportResult): HTMLElement[] {
  const c = result.contamination;
  const lines: HTMLElement[] = [];
  if (c.sharedProblems.length === 0) lines.push(el('p', { class: 'ok', 'data-contamination': 'clean' }, '✓ No problem is on both the train and the eval side.'));
  else lines.push(el('p', { class: 'error', 'data-contamination': 'shared' }, `✗ ${plural(c.sharedProblems.length, 'problem')} on both train and eval sides.`));
  if (c.removedFromTrain > 0) {
    lines.push(el('p', { class: 'muted' }, `${plural(c.removedFromTrain, 'training row')} about problems of the eval file were left out.`));
  }
  for (const d of c.otherDatasets) {
    lines.push(el('p', { class: 'warn' }, `⚠ ${plural(d.sharedProblems, 'problem')} of this dataset are also in the stored dataset “${d.name}”: do not train on one and evaluate on the other.`));
  }
  return lines;
}

/** The whole report; `onDownload` fetches every rejection of the import. */
export function renderImportReport(result: ImportResult, onDownload: () => void): HTMLElement {
  const stored = result.datasetId !== undefined;
  const head = stored
    ? el('p', { class: 'summary' }, 'Stored “', el('strong', {}, result.name), `”: ${splitText(result)} Took ${result.seconds.toFixed(1)} s.`)
    : el('p', { class: 'error summary' }, 'Nothing was stored: no row of these files could be read as a trajectory.');
  const note = result.rejectionsKept < result.rejectionsTotal ? ` (the first ${int(result.rejectionsKept)} of ${int(result.rejectionsTotal)})` : '';
  const downloadRow = result.rejectionsTotal > 0 && el(
    'p',
    { class: 'actions' },
    el('button', { type: 'button', id: 'data-download-rejections' }, 'Download rejections (CSV)'),
    el('span', { class: 'muted' }, ` ${plural(result.rejectionsTotal, 'rejection')}${note}, with file, line and reason.`),
  );
  if (downloadRow) downloadRow.querySelector('button')!.addEventListener('click', onDownload);
  return el('div', { class: 'import-report', 'data-dataset': result.datasetId }, head, ...(stored ? contaminationLines(result) : []), downloadRow, ...result.files.map(fileReport));
}
