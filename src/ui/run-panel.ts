// The Run section: the form, the memory check, Start / Pause / Resume / Stop, the status line and the
// runs list. One run trains at a time, in this tab's worker; its events update the page and go on to
// Watch with the run's id. After a reload, a run the store still calls "running" whose tab is
// gone is paused (its last checkpoint is kept) and offered for Resume; the last chosen run is shown again.
import * as Comlink from 'comlink';
import type { ModelRef, RunConfig, RunEvent, RunInfo, TrainerApi } from '../worker/api';
import { byId, int, messageOf } from './dom';
import { initMemoryCheck } from './memory-check';
import { LOOKING_FOR_GPU, type ModelPanel } from './model-panel';
import { type FormResult, initRunForm } from './run-form';
import { runLabel } from './run-labels';
import { type RunView, renderRunList } from './run-list';
import { holdRunLock, runsTrainingInTabs } from './run-locks';

export interface RunPanelCallbacks {
  /** A run was chosen in the list, or re-chosen after a reload; null when no run is chosen. */
  onSelect(run: RunInfo | null): void;
  /** Every event of the run training in this tab, with its id. */
  onEvent(ev: RunEvent, runId: string): void;
}

const CHOSEN_KEY = 'plantune:run';

const PHASES: Record<Extract<RunEvent, { type: 'progress' }>['phase'], string> = {
  loading: 'Loading the model and data',
  tokenizing: 'Tokenizing',
  tuning: 'Timing kernel variants for this GPU (once per model shape)',
  evaluating: 'Evaluating',
};

/** The model a run would train, as the worker names it: the Model section's, or the one a "start from" run trained. */
function modelOf(from: RunInfo | null, selected: ModelRef): { ref: ModelRef | null; source: Pick<RunConfig, 'modelDir' | 'modelId' | 'model'> } {
  if (!from) return { ref: selected, source: selected.kind === 'stored' ? { modelId: selected.id } : selected.kind === 'dir' ? { modelDir: selected.dir } : {} };
  const c = from.config;
  if (c.model) return { ref: null, source: { model: c.model } }; // a random-init model has no files to estimate from
  if (c.modelId) return { ref: { kind: 'stored', id: c.modelId }, source: { modelId: c.modelId } };
  return c.modelDir ? { ref: { kind: 'dir', dir: c.modelDir }, source: { modelDir: c.modelDir } } : { ref: { kind: 'default' }, source: {} };
}

export function initRunPanel(trainer: Comlink.Remote<TrainerApi>, model: ModelPanel, callbacks: RunPanelCallbacks): void {
  const formEl = byId<HTMLFormElement>('run-form');
  const memoryBox = byId('run-memory');
  const startButton = byId<HTMLButtonElement>('run-start');
  const pauseButton = byId<HTMLButtonElement>('run-pause');
  const resumeButton = byId<HTMLButtonElement>('run-resume');
  const stopButton = byId<HTMLButtonElement>('run-stop');
  const bar = byId<HTMLProgressElement>('run-progress');
  const detail = byId('run-progress-text');
  const blocked = byId('run-blocked');
  const status = byId('run-status');
  const list = byId('run-list');
  const form = initRunForm(byId('run-fields'));
  const memory = initMemoryCheck(trainer, memoryBox, () => update());

  let runs: RunInfo[] = [];
  let chosen: string | null = null;
  /** The run training in this tab, and the lock that tells other tabs so. */
  let active: { id: string; release: () => void } | null = null;
  /** A control action in flight ("Pausing…"): every control waits for it. */
  let busy: string | null = null;
  const liveStep = new Map<string, number>();
  const elsewhere = new Set<string>();
  const interrupted = new Set<string>();

  const say = (text: string, tone: '' | 'error' = ''): void => {
    status.textContent = text;
    status.classList.toggle('error', tone === 'error');
  };
  const runOf = (id: string | null): RunInfo | undefined => runs.find((r) => r.id === id);
  const nameOf = (id: string): string => `“${runOf(id)?.name ?? id}”`;

  function view(r: RunInfo): RunView {
    const where = active?.id === r.id ? 'here' : elsewhere.has(r.id) ? 'elsewhere' : interrupted.has(r.id) ? 'interrupted' : null;
    return { run: r, step: liveStep.get(r.id) ?? r.checkpointStep, where };
  }

  function renderList(): void {
    // Keep the keyboard focus on the same control across the re-render.
    const focused = list.contains(document.activeElement) ? document.activeElement?.getAttribute('aria-label') : null;
    list.replaceChildren(renderRunList(runs.map(view), chosen, { choose: (r) => choose(r.id), remove: (r) => void act(() => remove(r)) }));
    if (focused) list.querySelector<HTMLElement>(`[aria-label="${CSS.escape(focused)}"]`)?.focus();
  }

  async function refresh(): Promise<void> {
    runs = await trainer.listRuns();
    form.setRuns(runs);
    if (chosen !== null && !runOf(chosen)) choose(null, true); // deleted: Watch and Export let it go too
    renderList();
    update();
  }

  /** Chooses a run for Watch and Export; choosing the one already shown again changes nothing (Watch keeps it live). */
  function choose(id: string | null, first = false): void {
    if (id === chosen && !first) return;
    chosen = id;
    if (id === null) localStorage.removeItem(CHOSEN_KEY);
    else localStorage.setItem(CHOSEN_KEY, id);
    renderList();
    update();
    callbacks.onSelect(runOf(id) ?? null);
  }

  /** Runs a UI action, reporting its failure in the status line. */
  async function act(task: () => Promise<void>): Promise<void> {
    try {
      await task();
    } catch (e) {
      say(messageOf(e), 'error');
    }
  }

  // ---- Events of the run training here.

  /** The run is no longer training in this tab. */
  function finished(id: string): void {
    if (active?.id !== id) return;
    active.release();
    active = null;
    bar.classList.remove('active');
    update();
  }

  function onRunEvent(id: string, ev: RunEvent): void {
    const total = runOf(id)?.config.steps;
    if (ev.type === 'step') {
      liveStep.set(id, ev.step);
      const cell = list.querySelector(`tr[data-run="${CSS.escape(id)}"] [data-stat="step"]`);
      if (cell && total !== undefined) {
        cell.setAttribute('data-value', String(ev.step));
        cell.textContent = `${int(ev.step)} / ${int(total)}`;
      }
      if (total) bar.value = ev.step / total;
      detail.textContent = `Step ${int(ev.step)}${total ? ` of ${int(total)}` : ''} · loss ${ev.loss.toFixed(3)}`;
    } else if (ev.type === 'reward') {
      detail.textContent = `Step ${int(ev.step)}${total ? ` of ${int(total)}` : ''} · reward ${ev.rewardMean.toFixed(3)} · ${(100 * ev.accuracy).toFixed(0)}% correct`;
    } else if (ev.type === 'progress') {
      // A finished phase is followed by a step (the first one also compiles the GPU kernels): say so rather than leave "n of n".
      const done = liveStep.get(id) ?? 0;
      const next = total !== undefined && done >= total ? 'finishing…' : `working on step ${int(done + 1)}…`;
      detail.textContent = `${PHASES[ev.phase]}${ev.total <= 0 ? '…' : ev.done < ev.total ? `: ${int(ev.done)} of ${int(ev.total)}` : `: done; ${next}`}`;
    } else if (ev.type === 'status') {
      say(`Run ${nameOf(id)}: ${ev.status}${ev.message ? ` — ${ev.message}` : ''}.`, ev.status === 'failed' ? 'error' : '');
      if (ev.status !== 'running' && ev.status !== 'created') {
        finished(id);
        if (ev.status === 'completed') detail.textContent = '';
      }
      void act(refresh);
    } else if (ev.type === 'checkpoint') {
      void act(refresh);
    }
    callbacks.onEvent(ev, id);
  }

  /** A Comlink-proxied event callback; events that arrive before the run's id is known are held until `bind`. */
  function listener(): { callback: (ev: RunEvent) => void; bind(id: string): void } {
    let id: string | null = null;
    const early: RunEvent[] = [];
    return {
      callback: Comlink.proxy((ev: RunEvent) => (id === null ? early.push(ev) : onRunEvent(id, ev))),
      bind(runId) {
        id = runId;
        for (const ev of early.splice(0)) onRunEvent(runId, ev);
      },
    };
  }

  function train(id: string, step: number): void {
    active = { id, release: holdRunLock(id) };
    interrupted.delete(id);
    liveStep.set(id, step);
    const total = runOf(id)?.config.steps;
    bar.value = total ? step / total : 0;
    bar.classList.add('active');
  }

  // ---- Controls.

  async function start(result: FormResult): Promise<void> {
    const { source } = modelOf(form.fromRun(), model.selected());
    const config: RunConfig = { ...result.config, ...source };
    busy = 'Starting the run…';
    update();
    detail.textContent = 'Starting…';
    const events = listener();
    try {
      const id = await trainer.startRun(config, events.callback);
      train(id, 0);
      await refresh();
      choose(id);
      events.bind(id);
    } catch (e) {
      detail.textContent = '';
      say(`The run could not start: ${messageOf(e)}`, 'error');
    } finally {
      busy = null;
      update();
    }
  }

  /** Runs a control action with every control disabled, then re-reads the runs. */
  async function control(label: string, task: () => Promise<void>): Promise<void> {
    busy = label;
    update();
    try {
      await task();
    } catch (e) {
      say(messageOf(e), 'error');
    } finally {
      busy = null;
      await act(refresh);
    }
  }

  const pause = (id: string) => control('Pausing after the current step…', async () => {
    say(`Pausing ${nameOf(id)} after its current step…`);
    await trainer.pauseRun(id);
    finished(id);
  });

  const resume = (run: RunInfo) => control('Resuming…', async () => {
    const events = listener();
    events.bind(run.id);
    train(run.id, run.checkpointStep);
    say(`Resuming ${nameOf(run.id)} from its checkpoint at step ${int(run.checkpointStep)}…`);
    try {
      await trainer.resumeRun(run.id, events.callback);
    } catch (e) {
      finished(run.id);
      throw e;
    }
  });

  const stop = (id: string) => control('Stopping after the current step…', async () => {
    const step = liveStep.get(id) ?? runOf(id)?.checkpointStep ?? 0;
    if (!window.confirm(`Stop ${nameOf(id)} at step ${int(step)}? The run ends there, with a checkpoint: it cannot be resumed, but it can be exported or trained further by a new run that starts from it.`)) return;
    await trainer.stopRun(id);
    finished(id);
  });

  async function remove(r: RunInfo): Promise<void> {
    if (!window.confirm(`Delete the run ${runLabel(r)} with its checkpoints, metrics and evals? This cannot be undone.`)) return;
    await trainer.deleteRun(r.id);
    liveStep.delete(r.id);
    interrupted.delete(r.id);
    await refresh();
    say(`Deleted the run “${r.name}”.`);
  }

  startButton.form?.addEventListener('submit', (e) => {
    e.preventDefault();
    const result = form.read();
    if ('invalid' in result) {
      formEl.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus();
      return;
    }
    if (!startButton.disabled) void start(result);
  });
  pauseButton.addEventListener('click', () => active && void pause(active.id));
  resumeButton.addEventListener('click', () => {
    const run = runOf(chosen);
    if (run) void resume(run);
  });
  stopButton.addEventListener('click', () => {
    const id = active?.id ?? chosen;
    if (id) void stop(id);
  });

  /** Why Start is disabled, most important first (empty when it is enabled). */
  function startBlockers(result: FormResult | { invalid: string[] }): string[] {
    const reasons: string[] = [];
    if (busy) reasons.push(busy);
    if (active) reasons.push(`Run ${nameOf(active.id)} is training: pause or stop it before starting another.`);
    const modelProblem = model.blocker();
    if (modelProblem) reasons.push(modelProblem);
    const memoryProblem = memory.blocker();
    if ('invalid' in result) reasons.push(`Fix ${result.invalid.join(', ')}: see the message at ${result.invalid.length === 1 ? 'the field' : 'each field'}.`);
    else if (memoryProblem) reasons.push(memoryProblem);
    return reasons;
  }

  /** Sets every control's state from the current run, selection and form. */
  function update(): void {
    const result = form.read();
    const reasons = startBlockers(result);
    startButton.disabled = reasons.length > 0;
    blocked.textContent = reasons[0] ?? '';
    const run = runOf(chosen);
    const free = busy === null && !active && model.gpuProblem() === null;
    const resumable = run !== undefined && (run.status === 'paused' || run.status === 'failed') && !elsewhere.has(run.id);
    pauseButton.disabled = busy !== null || !active;
    resumeButton.disabled = !free || !resumable;
    stopButton.disabled = busy !== null || !(active || (run?.status === 'paused' && !elsewhere.has(run.id)));
    const target = active?.id ?? chosen;
    pauseButton.title = active ? `Pause ${nameOf(active.id)} after its current step` : 'No run is training in this tab';
    resumeButton.title = run ? (resumable ? `Resume ${nameOf(run.id)} from its latest checkpoint` : `${nameOf(run.id)} is ${run.status}`) : 'Choose a paused run in the list';
    stopButton.title = target ? `End ${nameOf(target)} with a checkpoint` : 'No run to stop';
    formEl.setAttribute('aria-busy', String(busy !== null));
  }

  // ---- Memory: the worker's estimate for the form's batch, sequence and LoRA, on the model the run would train.
  function estimateMemory(): void {
    const result = form.read();
    const { ref } = modelOf(form.fromRun(), model.selected());
    const gpuProblem = model.gpuProblem();
    if (gpuProblem !== null) memory.none(gpuProblem === LOOKING_FOR_GPU ? gpuProblem : 'No memory estimate without a WebGPU adapter.');
    else if (ref === null) memory.none('No memory estimate for a randomly initialised model.');
    else if ('invalid' in result) memory.none('The memory estimate appears once the settings are valid.');
    else memory.request(ref, result.plan);
  }

  // Any change can lift or add a reason Start is disabled, whether or not the memory estimate changes with it.
  form.onChange(() => {
    estimateMemory();
    update();
  });
  model.onChange(() => {
    form.setModel(model.info());
    estimateMemory();
    update();
  });
  const listDatasets = () => act(async () => form.setDatasets(await trainer.listDatasets()));
  form.onDataFocus(() => void listDatasets());

  // ---- After a (re)load: interrupted runs, runs of other tabs, and the last chosen run.

  async function restore(): Promise<void> {
    const [stored, training] = await Promise.all([trainer.listRuns(), runsTrainingInTabs()]);
    for (const r of stored) {
      if (r.status !== 'running' && r.status !== 'created') continue;
      if (training.has(r.id)) elsewhere.add(r.id);
      else {
        await trainer.pauseRun(r.id); // its worker is gone: the store marks it paused at its latest checkpoint
        interrupted.add(r.id);
      }
    }
    await refresh();
    const saved = localStorage.getItem(CHOSEN_KEY);
    choose(runOf(saved) ? saved : null, true);
    const cut = runs.filter((r) => interrupted.has(r.id));
    if (cut.length > 0) {
      say(cut.map((r) => `Run “${r.name}” was interrupted (the page was closed or reloaded while it trained); its checkpoint at step ${int(r.checkpointStep)} is kept: choose it and press Resume.`).join(' '));
    }
  }

  /** Another tab may have finished its run meanwhile. */
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState !== 'visible' || elsewhere.size === 0) return;
    void act(async () => {
      const training = await runsTrainingInTabs();
      for (const id of [...elsewhere]) if (!training.has(id)) elsewhere.delete(id);
      await refresh();
    });
  });

  estimateMemory();
  update();
  void listDatasets();
  void act(restore);
}
