// The Watch section: live charts of a run (loss, learning rate, gradient norm, tokens/s, reward mean
// ± std, eval accuracy) against step, its progress with an ETA, the eval before/after table and sample
// generations. `show(run)` loads the stored history, so a reloaded page redraws it; `onEvent` appends
// what the worker streams, with redraws throttled.
import type * as Comlink from 'comlink';
import type { EvalSummary, RunEvent, RunInfo, SampleView, TrainerApi } from '../worker/api';
import { type Chart, type ChartSpec, createChart } from './charts';
import { byId, el, int, messageOf } from './dom';
import { renderEvalTable } from './eval-table';
import { MODE_LABELS } from './run-labels';
import { formatDuration, learningRate, percent, rate, significant } from './run-format';
import { renderSamples } from './samples-view';
import { type Point, appendPoint, band, mergeSeries } from './series';

/** Redraws at most this often while events stream in. */
const REDRAW_MS = 300;
const SAMPLES_SHOWN = 6;

export interface WatchPanel {
  /** Shows a run: its stored metrics and evals, then live events; null clears the panel. */
  show(run: RunInfo | null): Promise<void>;
  /** An event of the run being trained; ignored when `runId` is given and is not the run shown. */
  onEvent(ev: RunEvent, runId?: string): void;
}

export interface WatchOptions {
  /** Called with the run's fresh record after a checkpoint or a status change (e.g. to enable exports). */
  onRunUpdate?(run: RunInfo): void;
}

const PHASE_LABELS: Record<string, string> = { loading: 'Loading the model and data', tokenizing: 'Tokenizing', tuning: 'Timing kernel variants for this GPU (once per model shape)', evaluating: 'Evaluating' };
const METRICS = ['loss', 'lr', 'gradNorm', 'tokensPerSecond', 'rewardMean', 'rewardStd'] as const;
type Metric = (typeof METRICS)[number];

const CHARTS: Record<string, ChartSpec> = {
  loss: { key: 'loss', title: 'Loss', lines: [{ label: 'loss', color: '#2453a6' }], format: (v) => significant(v, 4), empty: 'Appears after the first step.' },
  lr: { key: 'lr', title: 'Learning rate', lines: [{ label: 'learning rate', color: '#7a4a00' }], format: learningRate, empty: 'Appears after the first step.' },
  gradNorm: { key: 'grad-norm', title: 'Gradient norm', lines: [{ label: 'gradient norm', color: '#6b3fa0' }], format: (v) => significant(v, 3), empty: 'Appears after the first step.' },
  tokensPerSecond: { key: 'tokens-per-second', title: 'Tokens / s', lines: [{ label: 'tokens/s', color: '#1b6b35' }], format: rate, empty: 'Appears after the first step.' },
  reward: {
    key: 'reward',
    title: 'Reward (mean ± std)',
    lines: [
      { label: 'mean', color: '#b3261e' },
      { label: 'mean + std', color: '#b3261e', width: 1, dash: [4, 4], quiet: true },
      { label: 'mean − std', color: '#b3261e', width: 1, dash: [4, 4], quiet: true },
    ],
    bands: [[1, 2]],
    format: (v) => significant(v, 3),
    empty: 'GRPO runs log the reward of their sampled completions.',
  },
  accuracy: {
    key: 'accuracy',
    title: 'Eval accuracy',
    lines: [{ label: 'greedy', color: '#0b6e75' }, { label: 'pass@k', color: '#c26a00', dash: [6, 3] }],
    format: percent,
    range: [0, 1],
    empty: 'Appears after the first evaluation.',
  },
};

interface Watched {
  run: RunInfo;
  series: Record<Metric, Point[]>;
  evals: EvalSummary[];
  grpoSamples: { step: number; samples: SampleView[] } | null;
  step: number;
  eta: number | null;
  tokensPerSecond: number | null;
}

const emptySeries = (): Record<Metric, Point[]> => Object.fromEntries(METRICS.map((m) => [m, []])) as unknown as Record<Metric, Point[]>;

/** An eval event as the summary `runEvals` returns. */
function evalOf(ev: Extract<RunEvent, { type: 'eval' }>): EvalSummary {
  const n = Object.values(ev.bySteps).reduce((a, [count]) => a + count, 0);
  return { step: ev.step, n, accuracy: ev.accuracy, bySteps: ev.bySteps, samples: ev.samples ?? [], ...(ev.passAtK ? { passAtK: ev.passAtK } : {}) };
}

/** Keeps evals in step order; an eval at a step already present (or before a later one, after a resume) replaces it. */
function addEval(evals: EvalSummary[], e: EvalSummary): void {
  let keep = evals.length;
  while (keep > 0 && evals[keep - 1].step >= e.step) keep--;
  evals.length = keep;
  evals.push(e);
}

/** The run's state as stored, for the status line until an event says more. */
function statusLine(run: RunInfo): string {
  switch (run.status) {
    case 'created':
      return 'Starting…';
    case 'running':
      return 'Running.';
    case 'paused':
      return run.checkpointStep > 0 ? `Paused at the checkpoint of step ${int(run.checkpointStep)}: resume it in the Run section.` : 'Paused before its first checkpoint: resume it in the Run section.';
    case 'completed':
      return `Completed at step ${int(run.checkpointStep)}.`;
    case 'failed':
      return `Failed: ${run.error ?? 'no reason was recorded'}`;
  }
}

function describeRun(run: RunInfo): string {
  const c = run.config;
  const tuning = c.lora ? `LoRA rank ${c.lora.rank}` : 'full fine-tuning';
  return `${MODE_LABELS[run.mode] ?? run.mode} · ${int(c.steps)} steps · batch ${c.batch}${(c.accum ?? 1) > 1 ? ` × ${c.accum}` : ''} · lr ${learningRate(c.lr)} · ${tuning}`;
}

export function initWatchPanel(trainer: Comlink.Remote<TrainerApi>, options: WatchOptions = {}): WatchPanel {
  const section = byId('watch');
  const title = byId('watch-run');
  const bar = byId<HTMLProgressElement>('watch-progress');
  const progressText = byId('watch-progress-text');
  const phase = byId('watch-phase');
  const status = byId('watch-status');
  const chartsBox = byId('watch-charts');
  const evalsBox = byId('watch-evals');
  const samplesBox = byId('watch-samples');

  const charts: Record<string, Chart> = Object.fromEntries(Object.entries(CHARTS).map(([name, spec]) => [name, createChart(spec)]));
  chartsBox.replaceChildren(...Object.values(charts).map((c) => c.element));

  let watched: Watched | null = null;
  /** Events that arrive while a run's history loads; applied after it. */
  let queued: RunEvent[] | null = null;
  /** Increases with every show(): a slower earlier load must not overwrite a later one. */
  let generation = 0;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let tablesDirty = true;

  const say = (text: string, tone: '' | 'error' = ''): void => {
    status.textContent = text;
    status.classList.toggle('error', tone === 'error');
  };

  function drawProgress(w: Watched): void {
    const total = w.run.config.steps;
    bar.max = Math.max(1, total);
    bar.value = Math.min(w.step, total);
    bar.dataset.step = String(w.step);
    const parts = [`Step ${int(w.step)} of ${int(total)}`];
    if (w.run.status === 'running') parts.push(w.eta === null ? 'ETA after the next step' : `ETA ${formatDuration(w.eta)}`);
    if (w.tokensPerSecond !== null) parts.push(`${rate(w.tokensPerSecond)} tokens/s`);
    progressText.textContent = parts.join(' · ');
  }

  function draw(): void {
    timer = null;
    const w = watched;
    if (!w) return;
    const s = w.series;
    charts.loss.update([s.loss]);
    charts.lr.update([s.lr]);
    charts.gradNorm.update([s.gradNorm]);
    charts.tokensPerSecond.update([s.tokensPerSecond]);
    charts.reward.update([s.rewardMean, ...band(s.rewardMean, s.rewardStd)]);
    charts.accuracy.update([
      w.evals.map((e) => ({ step: e.step, value: e.accuracy })),
      w.evals.flatMap((e) => (e.passAtK ? [{ step: e.step, value: e.passAtK.value }] : [])),
    ]);
    drawProgress(w);
    if (tablesDirty) {
      tablesDirty = false;
      evalsBox.replaceChildren(renderEvalTable(w.evals));
      const lastEval = w.evals[w.evals.length - 1];
      samplesBox.replaceChildren(
        ...(lastEval ? [renderSamples(`Eval at step ${lastEval.step}`, lastEval.samples, SAMPLES_SHOWN, 'eval')] : []),
        ...(w.grpoSamples ? [renderSamples(`GRPO completions at step ${w.grpoSamples.step}`, w.grpoSamples.samples, SAMPLES_SHOWN, 'grpo')] : []),
      );
      if (!lastEval && !w.grpoSamples) samplesBox.replaceChildren(el('p', { class: 'muted' }, 'Completions appear after an eval (and at every GRPO step).'));
    }
  }

  const schedule = (): void => {
    timer ??= setTimeout(draw, REDRAW_MS);
  };

  /** Numbers the record reads: only the latest one's answer is applied (an earlier read may answer later). */
  let reads = 0;
  /** Re-reads the run's record (status, latest checkpoint) and passes it on. */
  async function refreshRun(w: Watched): Promise<void> {
    const ticket = ++reads;
    const fresh = (await trainer.listRuns()).find((r) => r.id === w.run.id);
    if (!fresh || watched !== w || ticket !== reads) return;
    w.run = fresh;
    options.onRunUpdate?.(fresh);
    schedule();
  }

  function apply(w: Watched, ev: RunEvent): void {
    switch (ev.type) {
      case 'step':
        for (const m of ['loss', 'lr', 'gradNorm', 'tokensPerSecond'] as const) appendPoint(w.series[m], ev.step, ev[m]);
        w.step = ev.step;
        w.eta = ev.eta;
        w.tokensPerSecond = ev.tokensPerSecond;
        phase.textContent = '';
        break;
      case 'reward':
        appendPoint(w.series.rewardMean, ev.step, ev.rewardMean);
        appendPoint(w.series.rewardStd, ev.step, ev.rewardStd);
        w.grpoSamples = { step: ev.step, samples: ev.samples };
        tablesDirty = true;
        break;
      case 'eval':
        addEval(w.evals, evalOf(ev));
        phase.textContent = `Evaluated at step ${ev.step}: accuracy ${percent(ev.accuracy)}.`;
        tablesDirty = true;
        break;
      case 'progress':
        phase.textContent = `${PHASE_LABELS[ev.phase] ?? ev.phase}: ${int(ev.done)} of ${int(ev.total)}…`;
        break;
      case 'status':
        w.run = { ...w.run, status: ev.status };
        say(`${ev.status[0].toUpperCase()}${ev.status.slice(1)}: ${ev.message}`, ev.status === 'failed' ? 'error' : '');
        if (ev.status !== 'running') w.eta = null;
        void refreshRun(w).catch(() => undefined);
        break;
      case 'checkpoint':
        phase.textContent = `Checkpoint saved at step ${ev.step}.`;
        void refreshRun(w).catch(() => undefined);
        break;
    }
    schedule();
  }

  function clear(): void {
    watched = null;
    queued = null;
    delete section.dataset.run;
    title.textContent = 'Choose a run in the Runs list to see its charts, evaluations and sample completions.';
    for (const c of Object.values(charts)) c.update([]);
    bar.value = 0;
    progressText.textContent = '';
    phase.textContent = '';
    say('');
    evalsBox.replaceChildren(el('p', { class: 'muted' }, 'Choose a run to see its evaluations.'));
    samplesBox.replaceChildren(el('p', { class: 'muted' }, 'Choose a run to see its sample completions.'));
  }

  async function show(run: RunInfo | null): Promise<void> {
    const mine = ++generation;
    if (!run) {
      clear();
      return;
    }
    const w: Watched = { run, series: emptySeries(), evals: [], grpoSamples: null, step: run.checkpointStep, eta: null, tokensPerSecond: null };
    watched = w;
    queued = [];
    tablesDirty = true;
    section.dataset.run = run.id;
    title.textContent = `Run “${run.name}”: ${describeRun(run)}`;
    phase.textContent = '';
    say(run.status === 'failed' ? statusLine(run) : `Loading the history of “${run.name}”…`, run.status === 'failed' ? 'error' : '');
    section.setAttribute('aria-busy', 'true');
    try {
      const [metrics, evals] = await Promise.all([trainer.runMetrics(run.id), trainer.runEvals(run.id)]);
      if (mine !== generation) return;
      for (const m of METRICS) mergeSeries(w.series[m], metrics[m] ?? []);
      for (const e of evals) addEval(w.evals, e);
      const lastLogged = w.series.loss[w.series.loss.length - 1];
      w.step = Math.max(w.step, lastLogged?.step ?? 0);
      w.tokensPerSecond = w.series.tokensPerSecond[w.series.tokensPerSecond.length - 1]?.value ?? null;
      if (run.status !== 'failed') say(statusLine(run));
    } catch (e) {
      if (mine !== generation) return;
      say(`Could not load the history of “${run.name}”: ${messageOf(e)}`, 'error');
    } finally {
      if (mine === generation) {
        section.removeAttribute('aria-busy');
        const pending = queued ?? [];
        queued = null;
        for (const ev of pending) apply(w, ev);
        draw();
      }
    }
  }

  function onEvent(ev: RunEvent, runId?: string): void {
    if (!watched || (runId !== undefined && runId !== watched.run.id)) return;
    if (queued) queued.push(ev);
    else apply(watched, ev);
  }

  clear();
  return { show, onEvent };
}
