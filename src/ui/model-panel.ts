// The Model section: which model a run fine-tunes (the built-in default, preselected, or one stored in
// this browser), what it is, and adding one: a dropped or chosen Hugging Face folder / llama2.c .bin,
// or a Hugging Face hub download. Every check happens in the worker; its messages are shown as they are.
import * as Comlink from 'comlink';
import type { GpuDescription, GpuUnavailable, HubImportOptions, ModelDownloadProgress, ModelImportProgress, ModelInfo, ModelRef, StoredModelInfo, TrainerApi } from '../worker/api';
import { byId, bytes, el, messageOf, plural } from './dom';
import { pickedFiles, readDropped, takeDropped } from './model-files';
import { paramCount, renderModelInfo } from './model-info';
import { renderModelList } from './model-list';

export interface ModelPanel {
  /** The model the next run trains. */
  selected(): ModelRef;
  /** What that model is, once the worker has read it (null before, or when it could not be read). */
  info(): ModelInfo | null;
  /** Why no run can start now (no WebGPU, the model is unreadable or still being read), or null. */
  blocker(): string | null;
  /** Why nothing can train in this browser (no WebGPU, or still looking for it), or null. */
  gpuProblem(): string | null;
  /** Called after the selection, its info or the blocker changed. */
  onChange(cb: () => void): void;
}

const STORAGE_KEY = 'plantune:model';
/** `gpuProblem()` while the worker is still looking for an adapter. */
export const LOOKING_FOR_GPU = 'Looking for a WebGPU adapter…';
/** owner/name, or a legacy top-level name such as "gpt2". */
const REPO_ID = /^(?:[\w.-]+\/)?[\w.-]+$/;

function savedRef(): ModelRef {
  try {
    const ref = JSON.parse(localStorage.getItem(STORAGE_KEY) ?? 'null') as ModelRef | null;
    if (ref?.kind === 'stored' && typeof ref.id === 'string') return ref;
  } catch {
    // an unreadable saved choice falls back to the default model
  }
  return { kind: 'default' };
}

export function initModelPanel(trainer: Comlink.Remote<TrainerApi>): ModelPanel {
  const gpuNote = byId('model-gpu');
  const infoBox = byId('model-info');
  const list = byId('model-list');
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
  const status = byId('model-status');

  let gpu: GpuDescription | GpuUnavailable | null = null;
  let ref: ModelRef = savedRef();
  let current: ModelInfo | null = null;
  let readError: string | null = null;
  let builtIn: ModelInfo | null = null;
  let stored: StoredModelInfo[] = [];
  let chosen: File[] = [];
  let busy = false;
  let describing = 0;
  const listeners: (() => void)[] = [];
  const changed = (): void => listeners.forEach((cb) => cb());

  const say = (text: string, tone: '' | 'error' = ''): void => {
    status.textContent = text;
    status.classList.toggle('error', tone === 'error');
  };

  function renderList(): void {
    list.replaceChildren(renderModelList(builtIn, stored, ref, { choose: (r) => void choose(r), remove: (m) => void act(() => remove(m)) }));
  }

  /** Shows and remembers `next`, then reads what it is. */
  async function choose(next: ModelRef): Promise<void> {
    ref = next;
    current = null;
    readError = null;
    localStorage.setItem(STORAGE_KEY, JSON.stringify(ref));
    renderList();
    infoBox.setAttribute('aria-busy', 'true');
    changed();
    const ticket = ++describing;
    try {
      const info = await trainer.describeModel(next);
      if (next.kind === 'default') builtIn = info; // its row in the list, whichever model is chosen by now
      if (ticket !== describing) {
        renderList();
        return;
      }
      current = info;
      infoBox.replaceChildren(renderModelInfo(info));
    } catch (e) {
      if (ticket !== describing) return;
      readError = messageOf(e);
      infoBox.replaceChildren(el('p', { class: 'error', id: 'model-info-error' }, `The model could not be read: ${readError}`));
    }
    infoBox.setAttribute('aria-busy', 'false');
    renderList();
    changed();
  }

  async function refreshList(): Promise<void> {
    stored = await trainer.listModels();
    renderList();
  }

  async function remove(m: StoredModelInfo): Promise<void> {
    if (!window.confirm(`Delete the model “${m.name}” (${paramCount(m.params)} parameters) from this browser? This cannot be undone.`)) return;
    await trainer.deleteModel(m.id);
    await refreshList();
    if (ref.kind === 'stored' && ref.id === m.id) await choose({ kind: 'default' });
    say(`Deleted the model “${m.name}”.`);
  }

  /** Runs a UI action, reporting its failure in the status line. */
  async function act(task: () => Promise<void>): Promise<void> {
    try {
      await task();
    } catch (e) {
      say(messageOf(e), 'error');
    }
  }

  // ---- GPU: without WebGPU nothing can train, and the page says why and what to do.
  async function checkGpu(): Promise<void> {
    gpu = await trainer.describeGpu().catch((e: unknown): GpuUnavailable => ({ ok: false, message: messageOf(e) }));
    if (!gpu.ok) {
      gpuNote.textContent = `Training needs WebGPU, which this browser does not offer here. ${gpu.message}`;
      gpuNote.hidden = false;
    }
    changed();
  }

  // ---- Adding a model from files.
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
    const total = files.reduce((n, f) => n + f.size, 0);
    selection.textContent = files.length === 0
      ? 'No files chosen.'
      : `${plural(files.length, 'file')} chosen (${bytes(total)}): ${files.map((f) => f.webkitRelativePath || f.name).join(', ')}`;
    importButton.disabled = busy || files.length === 0;
  }

  const openPicker = (input: HTMLInputElement) => (): void => {
    if (!busy) input.click();
  };
  zone.addEventListener('click', openPicker(filesInput));
  zone.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      openPicker(filesInput)();
    }
  });
  pickFolder.addEventListener('click', openPicker(folderInput));
  pickFiles.addEventListener('click', openPicker(filesInput));
  zone.addEventListener('dragover', (e) => {
    e.preventDefault();
    if (e.dataTransfer) e.dataTransfer.dropEffect = busy ? 'none' : 'copy';
    zone.classList.add('dragging');
  });
  zone.addEventListener('dragleave', () => zone.classList.remove('dragging'));
  zone.addEventListener('drop', (e) => {
    e.preventDefault();
    zone.classList.remove('dragging');
    if (busy || !e.dataTransfer) return;
    const entries = takeDropped(e.dataTransfer);
    void act(async () => setChosen(await readDropped(entries)));
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

  async function runImport(): Promise<void> {
    const files = chosen;
    const name = nameInput.value.trim();
    setBusy(true);
    importBar.value = 0;
    importBar.classList.add('active');
    importText.textContent = `Reading ${plural(files.length, 'file')} (${bytes(files.reduce((n, f) => n + f.size, 0))})…`;
    say('');
    try {
      const m = await trainer.importModel(files, name || undefined, Comlink.proxy(showImport));
      setChosen([]);
      nameInput.value = '';
      await refreshList();
      await choose({ kind: 'stored', id: m.id });
      say(`Imported “${m.name}” (${m.architecture}, ${paramCount(m.params)} parameters): it is selected for the next run.`);
    } catch (e) {
      say(`Import failed: ${messageOf(e)}`, 'error');
    } finally {
      importBar.classList.remove('active');
      importText.textContent = '';
      setBusy(false);
    }
  }

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    if (!busy && chosen.length > 0) void runImport();
  });

  // ---- Adding a model from the Hugging Face hub.
  function showDownload(p: ModelDownloadProgress): void {
    if (p.totalAll) hubBar.value = p.loadedAll / p.totalAll;
    else hubBar.removeAttribute('value');
    const of = p.total !== null ? ` of ${bytes(p.total)}` : '';
    const all = p.totalAll !== null ? ` · ${bytes(p.loadedAll)} of ${bytes(p.totalAll)} in all` : ` · ${bytes(p.loadedAll)} in all`;
    hubText.textContent = `${p.file}: ${bytes(p.loaded)}${of}${all}`;
  }

  async function download(repoId: string, opts: HubImportOptions): Promise<void> {
    setBusy(true);
    hubBar.value = 0;
    hubBar.classList.add('active');
    hubText.textContent = `Contacting huggingface.co for ${repoId}…`;
    say('');
    try {
      const m = await trainer.importHubModel(repoId, Comlink.proxy(showDownload), opts);
      hubInput.value = '';
      revisionInput.value = '';
      await refreshList();
      await choose({ kind: 'stored', id: m.id });
      say(`Downloaded “${m.name}” (${m.architecture}, ${paramCount(m.params)} parameters): it is selected for the next run.`);
    } catch (e) {
      say(`Download of ${repoId} failed: ${messageOf(e)}`, 'error');
    } finally {
      hubBar.classList.remove('active');
      hubText.textContent = '';
      setBusy(false);
    }
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
  void checkGpu();
  void act(async () => {
    // The default model is described once for its row in the list, whichever model is chosen.
    const list = refreshList().catch((e: unknown) => say(`The stored models could not be listed: ${messageOf(e)}`, 'error'));
    if (ref.kind !== 'default') {
      builtIn = await trainer.describeModel({ kind: 'default' }).catch(() => null);
      await list;
      if (!stored.some((m) => ref.kind === 'stored' && m.id === ref.id)) ref = { kind: 'default' };
    }
    await choose(ref);
  });

  function gpuProblem(): string | null {
    if (gpu === null) return LOOKING_FOR_GPU;
    return gpu.ok ? null : `WebGPU is not available in this browser: ${gpu.message}`;
  }

  return {
    selected: () => ref,
    info: () => current,
    blocker: () => {
      if (gpuProblem()) return gpuProblem();
      if (readError !== null) return `The model could not be read: ${readError}`;
      if (current === null) return 'Reading the model…';
      return null;
    },
    gpuProblem,
    onChange: (cb) => void listeners.push(cb),
  };
}

