// The Model section: which model a run fine-tunes (the built-in default, preselected, or one stored in
// this browser), what it is, stored models to choose or delete, and whether this browser can train at
// all (WebGPU). Adding a model is model-add.ts. Every check happens in the worker; its messages are shown as they are.
import type * as Comlink from 'comlink';
import type { GpuDescription, GpuUnavailable, ModelInfo, ModelRef, StoredModelInfo, TrainerApi } from '../worker/api';
import { byId, el, messageOf } from './dom';
import { initModelAdd } from './model-add';
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
  const status = byId('model-status');

  let gpu: GpuDescription | GpuUnavailable | null = null;
  let ref: ModelRef = savedRef();
  let current: ModelInfo | null = null;
  let readError: string | null = null;
  let builtIn: ModelInfo | null = null;
  let stored: StoredModelInfo[] = [];
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

  initModelAdd(trainer, {
    say,
    added: async (m, how) => {
      await refreshList();
      await choose({ kind: 'stored', id: m.id });
      say(`${how} “${m.name}” (${m.architecture}, ${paramCount(m.params)} parameters): it is selected for the next run.`);
    },
  });
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

