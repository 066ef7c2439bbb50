// The Export section: a run's weights (HF safetensors + config.json, or a PEFT adapter), metrics (CSV,
// JSON) and sample trajectories (JSONL), made by the worker and saved as browser downloads. Each
// button says why it is disabled; the files of the last export stay listed as links.
import type * as Comlink from 'comlink';
import type { ExportKind, ExportedFile, RunInfo, TrainerApi } from '../worker/api';
import { byId, bytes, el, messageOf, plural } from './dom';

export interface ExportPanel {
  /** The run to export from (null: none chosen). */
  show(run: RunInfo | null): void;
}

interface ExportAction {
  kind: ExportKind;
  label: string;
  what: string;
  /** Why this export cannot be made for `run`, or null when it can. */
  unavailable(run: RunInfo): string | null;
}

const noCheckpoint = (run: RunInfo): string | null =>
  run.checkpointStep > 0 ? null : `No checkpoint yet: one is saved every ${run.config.checkpointEvery} steps, and on pause, stop and at the end.`;

const ACTIONS: ExportAction[] = [
  { kind: 'safetensors', label: 'Model (safetensors)', what: 'model.safetensors, config.json and the tokenizer files, loadable by transformers (LoRA merged in)', unavailable: noCheckpoint },
  {
    kind: 'peft',
    label: 'PEFT adapter',
    what: 'adapter_config.json and adapter_model.safetensors, for peft',
    unavailable: (run) => (run.config.lora ? noCheckpoint(run) : 'This run fine-tunes the full model: there is no LoRA adapter. Export the model instead.'),
  },
  { kind: 'metrics-csv', label: 'Metrics (CSV)', what: 'every logged metric by step, one column per metric', unavailable: () => null },
  { kind: 'metrics-json', label: 'Metrics (JSON)', what: 'every logged metric as series by step', unavailable: () => null },
  { kind: 'trajectories-jsonl', label: 'Trajectories (JSONL)', what: 'the eval and GRPO completions as Plantune JSONL', unavailable: () => null },
];

/** Saves a blob as a file through a temporary link; returns its object URL (kept for the file list). */
function saveBlob(file: ExportedFile): string {
  const url = URL.createObjectURL(file.blob);
  const link = el('a', { href: url, download: file.name, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  return url;
}

export function initExportPanel(trainer: Comlink.Remote<TrainerApi>): ExportPanel {
  const section = byId('export');
  const title = byId('export-run');
  const list = byId('export-actions');
  const status = byId('export-status');
  const files = byId('export-files');
  let run: RunInfo | null = null;
  let busy = false;
  /** Object URLs of the listed files, released when the list is replaced. */
  let urls: string[] = [];

  const say = (text: string, tone: '' | 'error' = ''): void => {
    status.textContent = text;
    status.classList.toggle('error', tone === 'error');
  };

  const rows = ACTIONS.map((a) => {
    const reasonId = `export-${a.kind}-reason`;
    const button = el('button', { type: 'button', id: `export-${a.kind}`, 'data-kind': a.kind, 'aria-describedby': reasonId }, a.label);
    const reason = el('span', { id: reasonId, class: 'muted' }, a.what);
    button.addEventListener('click', () => void exportKind(a));
    list.append(el('li', {}, button, reason));
    return { action: a, button, reason };
  });

  function sync(): void {
    for (const { action, button, reason } of rows) {
      const why = run ? action.unavailable(run) : 'Choose a run first.';
      button.disabled = busy || why !== null;
      reason.textContent = why ?? action.what;
      reason.classList.toggle('why', why !== null);
    }
    section.setAttribute('aria-busy', String(busy));
  }

  function listFiles(saved: ExportedFile[]): void {
    for (const u of urls) URL.revokeObjectURL(u);
    urls = saved.map(saveBlob);
    files.replaceChildren(
      ...saved.map((f, i) => el('li', {}, el('a', { href: urls[i], download: f.name, 'data-file': f.name }, f.name), el('span', { class: 'muted' }, ` ${bytes(f.blob.size)}`))),
    );
  }

  async function exportKind(a: ExportAction): Promise<void> {
    const target = run;
    if (!target || busy) return;
    busy = true;
    sync();
    say(`Preparing ${a.label.toLowerCase()} of “${target.name}”…`);
    try {
      const saved = await trainer.exportRun(target.id, a.kind);
      if (saved.length === 0) throw new Error('the worker returned no file');
      listFiles(saved);
      say(`Saved ${plural(saved.length, 'file')} of “${target.name}”: ${saved.map((f) => f.name).join(', ')}. If your browser blocked some downloads, use the links below.`);
    } catch (e) {
      say(`Export failed: ${messageOf(e)}`, 'error');
    } finally {
      busy = false;
      sync();
    }
  }

  function show(next: RunInfo | null): void {
    const changed = next?.id !== run?.id;
    run = next;
    title.textContent = next ? `From run “${next.name}”${next.checkpointStep > 0 ? `, checkpoint at step ${next.checkpointStep}` : ''}.` : 'Choose a run in the Runs list to export it.';
    if (changed) {
      for (const u of urls) URL.revokeObjectURL(u);
      urls = [];
      files.replaceChildren();
      say('');
    }
    sync();
  }

  show(null);
  return { show };
}
