// The Data section: choose or drop trajectory files, import them in the worker (the page never reads
// a file), show the report, a preview, and the stored datasets.
import * as Comlink from 'comlink';
import type { SourceFormat } from '../data/trajectory';
import type { DatasetInfo, ImportDatasetOptions, ImportProgress, TrainerApi } from '../worker/api';
import { csvSafeName, parseSplitInputs } from './data-inputs';
import { FORMAT_LABELS } from './data-labels';
import { renderDatasetList } from './data-list';
import { renderPreview } from './data-preview';
import { renderImportReport } from './data-report';
import { byId, bytes, download, el, int, messageOf, plural } from './dom';
import { rejectionsCsv } from './csv';
import { describeFiles, initDropZone } from './drop-zone';

const PREVIEW_ROWS = 3;

/** Dispatched on `document` by other sections that store a dataset (the Teacher's "Save as dataset"): the list is read again. */
export const DATASETS_CHANGED = 'plantune:datasets-changed';

export function initDataPanel(trainer: Comlink.Remote<TrainerApi>): void {
  const form = byId<HTMLFormElement>('data-form');
  const zone = byId('data-drop');
  const input = byId<HTMLInputElement>('data-files');
  const selection = byId('data-selection');
  const format = byId<HTMLSelectElement>('data-format');
  const evalInput = byId<HTMLInputElement>('data-eval');
  const seedInput = byId<HTMLInputElement>('data-seed');
  const holdOut = byId<HTMLSelectElement>('data-holdout');
  const nameInput = byId<HTMLInputElement>('data-name');
  const importButton = byId<HTMLButtonElement>('data-import');
  const bar = byId<HTMLProgressElement>('data-progress');
  const detail = byId('data-progress-text');
  const status = byId('data-status');
  const report = byId('data-report');
  const preview = byId('data-preview');
  const list = byId('data-list');
  let chosen: File[] = [];
  let busy = false;

  for (const [value, label] of Object.entries(FORMAT_LABELS)) format.append(el('option', { value }, label));

  const say = (text: string, tone: '' | 'error' = ''): void => {
    status.textContent = text;
    status.classList.toggle('error', tone === 'error');
  };

  function choose(files: File[]): void {
    chosen = files;
    selection.textContent = describeFiles(chosen);
    holdOut.replaceChildren(
      el('option', { value: '' }, 'Random problems (fraction)'),
      ...chosen.map((f) => el('option', { value: f.name }, `All of ${f.name}`)),
    );
    syncSplitInputs();
    importButton.disabled = busy || chosen.length === 0;
  }

  function syncSplitInputs(): void {
    const byFile = holdOut.value !== '';
    evalInput.disabled = busy || byFile;
    seedInput.disabled = busy || byFile;
  }

  function setBusy(value: boolean): void {
    busy = value;
    for (const control of [format, holdOut, nameInput]) control.disabled = value;
    syncSplitInputs();
    importButton.disabled = value || chosen.length === 0;
    zone.setAttribute('aria-disabled', String(value));
    form.setAttribute('aria-busy', String(value));
  }

  initDropZone(zone, input, () => busy, choose);
  // A file dropped beside the zone must not make the browser navigate away from the page (text drags into inputs still work).
  for (const type of ['dragover', 'drop'] as const) {
    document.addEventListener(type, (e) => {
      if (e.dataTransfer?.types.includes('Files')) e.preventDefault();
    });
  }
  holdOut.addEventListener('change', syncSplitInputs);

  function showProgress(p: ImportProgress): void {
    if (p.phase === 'storing') {
      bar.removeAttribute('value');
      detail.textContent = `Saving ${int(p.kept)} trajectories in this browser…`;
      return;
    }
    bar.value = p.totalBytes > 0 ? p.bytesRead / p.totalBytes : 1;
    const which = p.fileCount > 1 ? ` (${p.fileIndex + 1}/${p.fileCount})` : '';
    detail.textContent = `Reading ${p.file}${which}: ${bytes(p.bytesRead)} of ${bytes(p.totalBytes)} · ${int(p.rows)} rows, ${int(p.rejected)} rejected`;
  }

  async function showPreview(id: string, name: string): Promise<void> {
    const rows = await trainer.previewDataset(id, PREVIEW_ROWS);
    preview.replaceChildren(renderPreview(`Preview of “${name}” (first ${Math.min(PREVIEW_ROWS, rows.length)} trajectories)`, rows));
    preview.dataset.dataset = id;
  }

  async function downloadRejections(id: string, name: string): Promise<void> {
    const rows = await trainer.getRejections(id);
    download(`${csvSafeName(name)}-rejections.csv`, rejectionsCsv(rows), 'text/csv');
  }

  async function refreshList(): Promise<void> {
    const datasets = await trainer.listDatasets();
    list.replaceChildren(renderDatasetList(datasets, { preview: (d) => void act(() => showPreview(d.id, d.name)), downloadRejections: (d) => void act(() => downloadRejections(d.id, d.name)), remove: (d) => void act(() => remove(d)) }));
  }

  async function remove(d: DatasetInfo): Promise<void> {
    if (!window.confirm(`Delete the dataset “${d.name}” and its ${int(d.counts.trajectories)} trajectories? This cannot be undone.`)) return;
    await trainer.deleteDataset(d.id);
    if (preview.dataset.dataset === d.id) preview.replaceChildren();
    await refreshList();
    say(`Deleted the dataset “${d.name}”.`);
  }

  /** Runs a UI action, reporting its failure in the status line. */
  async function act(task: () => Promise<void>): Promise<void> {
    try {
      await task();
    } catch (e) {
      say(messageOf(e), 'error');
    }
  }

  async function runImport(): Promise<void> {
    const split = parseSplitInputs(evalInput, seedInput);
    if (typeof split === 'string') {
      say(split, 'error');
      return;
    }
    const files = chosen;
    const opts: ImportDatasetOptions = {
      ...split,
      format: format.value as 'auto' | SourceFormat,
      ...(nameInput.value.trim() ? { name: nameInput.value.trim() } : {}),
      ...(holdOut.value ? { holdOutFileName: holdOut.value } : {}),
    };
    setBusy(true);
    report.classList.add('stale');
    bar.value = 0;
    bar.classList.add('active');
    detail.textContent = '';
    say(`Importing ${plural(files.length, 'file')} (${bytes(files.reduce((n, f) => n + f.size, 0))})…`);
    try {
      const result = await trainer.importDataset(files, opts, Comlink.proxy(showProgress));
      const rejectionsId = result.rejectionsId;
      report.replaceChildren(renderImportReport(result, () => void act(() => downloadRejections(rejectionsId, result.name))));
      if (result.datasetId !== undefined) {
        await showPreview(result.datasetId, result.name);
        say(`Imported “${result.name}”: ${int(result.counts.trajectories)} trajectories kept, ${int(result.rejectionsTotal)} rejected.`);
      } else {
        preview.replaceChildren();
        say('Nothing was imported: see the report below.', 'error');
      }
      await refreshList();
    } catch (e) {
      report.replaceChildren();
      say(`Import failed: ${messageOf(e)}`, 'error');
    } finally {
      report.classList.remove('stale');
      bar.classList.remove('active');
      bar.value = 1;
      detail.textContent = '';
      setBusy(false);
    }
  }

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    if (!busy && chosen.length > 0) void runImport();
  });
  choose([]);
  void act(refreshList);
  document.addEventListener(DATASETS_CHANGED, () => void act(refreshList));
}
