// Adding a model: files dropped on the drop zone (folders walked) or chosen with the folder or file
// picker, checked and stored by the worker with progress; or a Hugging Face hub download by repo id.
// One addition at a time; the worker's error is shown as it is, and nothing is stored on failure.
import * as Comlink from 'comlink';
import type { HubImportOptions, ModelDownloadProgress, ModelImportProgress, StoredModelInfo, TrainerApi } from '../worker/api';
import { byId, bytes, messageOf, plural } from './dom';
import { activateOn, describeFiles, dropOn } from './drop-zone';
import { pickedFiles, readDropped, takeDropped } from './model-files';

/** owner/name, or a legacy top-level name such as "gpt2". */
const REPO_ID = /^(?:[\w.-]+\/)?[\w.-]+$/;

export interface ModelAddHooks {
  /** A model was stored: list and select it, and say so (`how` is "Imported" or "Downloaded"). */
  added(m: StoredModelInfo, how: string): Promise<void>;
  /** The Model section's status line. */
  say(text: string, tone?: '' | 'error'): void;
}

export function initModelAdd(trainer: Comlink.Remote<TrainerApi>, { added, say }: ModelAddHooks): void {
  const form = byId<HTMLFormElement>('model-form');
  const zone = byId('model-drop');
  const folderInput = byId<HTMLInputElement>('model-folder');
  const filesInput = byId<HTMLInputElement>('model-files');
  const pickFolder = byId<HTMLButtonElement>('model-pick-folder');
  const pickFiles = byId<HTMLButtonElement>('model-pick-files');
  const selection = byId('model-selection');
  const nameInput = byId<HTMLInputElement>('model-name');
  const importButton = byId<HTMLButtonElement>('model-import');
  const importBar = byId<HTMLProgressElement>('model-import-progress');
  const importText = byId('model-import-text');
  const hubForm = byId<HTMLFormElement>('model-hub-form');
  const hubInput = byId<HTMLInputElement>('model-hub-id');
  const revisionInput = byId<HTMLInputElement>('model-hub-revision');
  const tokenInput = byId<HTMLInputElement>('model-hub-token');
  const hubButton = byId<HTMLButtonElement>('model-hub-download');
  const hubBar = byId<HTMLProgressElement>('model-hub-progress');
  const hubText = byId('model-hub-text');
  let chosen: File[] = [];
  let busy = false;

  // ---- From files.
  function setBusy(value: boolean): void {
    busy = value;
    for (const control of [pickFolder, pickFiles, nameInput, hubInput, revisionInput, tokenInput]) control.disabled = value;
    importButton.disabled = value || chosen.length === 0;
    hubButton.disabled = value || hubInput.value.trim() === '';
    zone.setAttribute('aria-disabled', String(value));
    form.setAttribute('aria-busy', String(value));
  }

  function setChosen(files: File[]): void {
    chosen = files;
    selection.textContent = describeFiles(files);
    importButton.disabled = busy || files.length === 0;
  }

  const openPicker = (input: HTMLInputElement) => (): void => {
    if (!busy) input.click();
  };
  activateOn(zone, openPicker(filesInput));
  pickFolder.addEventListener('click', openPicker(folderInput));
  pickFiles.addEventListener('click', openPicker(filesInput));
  dropOn(zone, () => busy, (dt) => {
    const entries = takeDropped(dt);
    readDropped(entries).then(setChosen, (err: unknown) => say(messageOf(err), 'error'));
  });
  for (const input of [folderInput, filesInput]) {
    input.addEventListener('change', () => {
      setChosen(pickedFiles(input.files));
      input.value = ''; // choosing the same folder again still fires change
    });
  }

  function showImport(p: ModelImportProgress): void {
    importBar.value = p.total > 0 ? p.loaded / p.total : 1;
    importText.textContent = p.phase === 'checking'
      ? `Checking the weights: ${p.file} · ${bytes(p.loaded)} of ${bytes(p.total)}`
      : `Saving in this browser: ${bytes(p.loaded)} of ${bytes(p.total)}`;
  }

  /** One addition with its progress line: the stored model goes to `added`; a failure, with the worker's message, to the status line. */
  async function add(bar: HTMLProgressElement, line: HTMLElement, first: string, task: () => Promise<StoredModelInfo>, how: string, failed: string): Promise<void> {
    setBusy(true);
    bar.value = 0;
    bar.classList.add('active');
    line.textContent = first;
    say('');
    let stored: StoredModelInfo | null = null;
    try {
      stored = await task();
    } catch (e) {
      say(`${failed}: ${messageOf(e)}`, 'error');
    } finally {
      bar.classList.remove('active');
      line.textContent = '';
      setBusy(false);
    }
    if (stored) await added(stored, how).catch((e: unknown) => say(messageOf(e), 'error'));
  }

  function runImport(): Promise<void> {
    const files = chosen;
    const name = nameInput.value.trim();
    const reading = `Reading ${plural(files.length, 'file')} (${bytes(files.reduce((n, f) => n + f.size, 0))})…`;
    return add(importBar, importText, reading, async () => {
      const m = await trainer.importModel(files, name || undefined, Comlink.proxy(showImport));
      setChosen([]);
      nameInput.value = '';
      return m;
    }, 'Imported', 'Import failed');
  }

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    if (!busy && chosen.length > 0) void runImport();
  });

  // ---- From the Hugging Face hub.
  function showDownload(p: ModelDownloadProgress): void {
    if (p.totalAll) hubBar.value = p.loadedAll / p.totalAll;
    else hubBar.removeAttribute('value');
    const of = p.total !== null ? ` of ${bytes(p.total)}` : '';
    const all = p.totalAll !== null ? ` · ${bytes(p.loadedAll)} of ${bytes(p.totalAll)} in all` : ` · ${bytes(p.loadedAll)} in all`;
    hubText.textContent = `${p.file}: ${bytes(p.loaded)}${of}${all}`;
  }

  function download(repoId: string, opts: HubImportOptions): Promise<void> {
    return add(hubBar, hubText, `Contacting huggingface.co for ${repoId}…`, async () => {
      const m = await trainer.importHubModel(repoId, Comlink.proxy(showDownload), opts);
      hubInput.value = '';
      revisionInput.value = '';
      return m;
    }, 'Downloaded', `Download of ${repoId} failed`);
  }

  hubInput.addEventListener('input', () => {
    hubInput.removeAttribute('aria-invalid');
    hubButton.disabled = busy || hubInput.value.trim() === '';
  });
  hubForm.addEventListener('submit', (e) => {
    e.preventDefault();
    const repoId = hubInput.value.trim();
    if (busy || !repoId) return;
    if (!REPO_ID.test(repoId)) {
      hubInput.setAttribute('aria-invalid', 'true');
      hubInput.focus();
      say(`“${repoId}” is not a Hugging Face repo id: write it as owner/name, e.g. HuggingFaceTB/SmolLM2-135M.`, 'error');
      return;
    }
    const revision = revisionInput.value.trim();
    const token = tokenInput.value.trim();
    void download(repoId, { ...(revision ? { revision } : {}), ...(token ? { token } : {}) });
  });

  setChosen([]);
}
