// The Watch and Export panels in real Chromium, on the page's own markup (index.html) and styles,
// against a scripted trainer API: history drawn after show(), live events merged with it (throttled,
// a resumed run's repeated steps replaced, events of another run ignored), the eval before/after table
// and samples, fixed chart heights and widths that follow the container, and the export buttons'
// reasons and downloads. The real worker behind these calls is covered by tests/e2e/train-flow.test.ts.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type * as Comlink from 'comlink';
import pageHtml from '../../index.html?raw';
import '../../src/ui/style.css';
import { initExportPanel } from '../../src/ui/export-panel';
import { initWatchPanel } from '../../src/ui/watch-panel';
import type { EvalSummary, ExportKind, ExportedFile, RunConfig, RunEvent, RunInfo, RunMetrics, TrainerApi } from '../../src/worker/api';

const config: RunConfig = { mode: 'sft', data: { synthetic: 100 }, steps: 10, batch: 2, lr: 3e-4, seq: 128, evalCount: 4, checkpointEvery: 5 };
const runA: RunInfo = { id: 'run-a', name: 'plan SFT', mode: 'sft', status: 'paused', config, checkpointStep: 5, createdAt: 1, updatedAt: 2 };
const runB: RunInfo = { ...runA, id: 'run-b', name: 'other', checkpointStep: 0, status: 'running' };

const series = (steps: number[], f: (s: number) => number) => steps.map((step) => ({ step, value: f(step) }));
const history: RunMetrics = {
  loss: series([1, 2, 3, 4, 5], (s) => 4 - s * 0.5),
  lr: series([1, 2, 3, 4, 5], () => 3e-4),
  gradNorm: series([1, 2, 3, 4, 5], (s) => 2 / s),
  tokensPerSecond: series([1, 2, 3, 4, 5], (s) => 200 + s),
};
const before: EvalSummary = {
  step: 0, n: 4, accuracy: 0.25, bySteps: { 1: [2, 1], 2: [2, 0] },
  samples: [
    { prompt: 'Tom has 3 apples and buys 2 more. How many?', completion: 'Plan:\n1. How many in all?\nSolution:\n1. 3 + 2 = 5\n#### 5', gold: '5', predicted: '5', correct: true },
    { prompt: 'Ann has 10 pens and gives 4 away. How many?', completion: '#### 14', gold: '6', predicted: '14', correct: false },
    { prompt: 'Bo has 2 cats. How many?', completion: 'Plan:\n1. How many cats', gold: '2', predicted: null, correct: false, truncated: true },
  ],
};

/** A trainer whose calls are recorded and whose answers the test sets (or holds back). */
class ScriptedTrainer {
  metrics: Record<string, RunMetrics> = { 'run-a': history, 'run-b': {} };
  evals: Record<string, EvalSummary[]> = { 'run-a': [before], 'run-b': [] };
  runs: RunInfo[] = [runA, runB];
  exports: { runId: string; kind: ExportKind }[] = [];
  exportAnswer: () => Promise<ExportedFile[]> = async () => [];
  /** When set, runMetrics waits for it. */
  hold: Promise<void> | null = null;

  async runMetrics(id: string): Promise<RunMetrics> {
    await this.hold;
    return structuredClone(this.metrics[id]);
  }
  async runEvals(id: string): Promise<EvalSummary[]> {
    return structuredClone(this.evals[id]);
  }
  async listRuns(): Promise<RunInfo[]> {
    return this.runs;
  }
  async exportRun(runId: string, kind: ExportKind): Promise<ExportedFile[]> {
    this.exports.push({ runId, kind });
    return this.exportAnswer();
  }
}

const $ = <T extends Element = HTMLElement>(sel: string): T => {
  const node = document.querySelector<T>(sel);
  if (!node) throw new Error(`no ${sel}`);
  return node;
};
const points = (chart: string) => Number($(`[data-chart="${chart}"]`).dataset.points);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Longer than the panel's redraw throttle. */
const redraw = () => sleep(400);
const step = (s: number, loss: number, eta = 65): RunEvent => ({ type: 'step', step: s, loss, lr: 2e-4, gradNorm: 0.5, tokensPerSecond: 250, eta });

let trainer: ScriptedTrainer;
let updates: RunInfo[];

function mount(): { watch: ReturnType<typeof initWatchPanel>; exporter: ReturnType<typeof initExportPanel> } {
  const doc = new DOMParser().parseFromString(pageHtml, 'text/html');
  document.body.replaceChildren(...['#watch', '#export'].map((s) => document.importNode(doc.querySelector(s)!, true)));
  document.body.style.width = '900px';
  trainer = new ScriptedTrainer();
  updates = [];
  const api = trainer as unknown as Comlink.Remote<TrainerApi>;
  return { watch: initWatchPanel(api, { onRunUpdate: (r) => updates.push(r) }), exporter: initExportPanel(api) };
}

beforeAll(() => {
  document.head.append(Object.assign(document.createElement('style'), { textContent: 'body { margin: 0; }' }));
});
afterEach(() => document.body.replaceChildren());

describe('the Watch panel', () => {
  it('draws a run’s stored history on show, with a text alternative per chart and fixed chart heights', async () => {
    const { watch } = mount();
    const heightsEmpty = [...document.querySelectorAll<HTMLElement>('.chart')].map((c) => c.offsetHeight);
    expect(heightsEmpty).toHaveLength(6);
    expect(new Set(heightsEmpty).size).toBe(1); // one height with or without a legend
    await watch.show(runA);
    expect(points('loss')).toBe(5);
    expect(points('tokens-per-second')).toBe(5);
    expect(points('accuracy')).toBe(1);
    expect(points('reward')).toBe(0);
    expect($('[data-chart="reward"] .chart-empty').hidden).toBe(false);
    expect($('[data-chart="loss"] .chart-empty').hidden).toBe(true);
    expect($('[data-chart="loss"] .plot').getAttribute('aria-label')).toBe('Loss: 5 points from step 1 to step 5; latest 1.5 at step 5; lowest 1.5 at step 5; highest 3.5 at step 1.');
    expect($('[data-chart="loss"] .latest').textContent).toBe('1.5 at step 5');
    expect($('[data-chart="loss"] .plot').tabIndex).toBe(0);
    expect($('#watch-progress-text').textContent).toBe('Step 5 of 10 · 205 tokens/s');
    expect($<HTMLProgressElement>('#watch-progress').value).toBe(5);
    expect($('#watch-run').textContent).toBe('Run “plan SFT”: SFT · 10 steps · batch 2 · lr 3.00e-4 · full fine-tuning');
    expect($('#watch-status').textContent).toBe('Paused at the checkpoint of step 5: resume it in the Run section.');
    // One eval: the before column only.
    expect($('.eval-compare caption').textContent).toContain('the after column fills in at the next eval');
    expect($('[data-row="accuracy"] td').textContent).toBe('25.0% (1/4)');
    // Its samples, judged.
    expect([...document.querySelectorAll('[data-samples="eval"] .sample')].map((s) => s.getAttribute('data-correct'))).toEqual(['true', 'false', 'false']);
    expect([...document.querySelectorAll('[data-samples="eval"] .predicted')].map((d) => d.textContent)).toEqual(['5', '14', 'no final answer found']);
    expect($('[data-samples="eval"] .sample:nth-child(3) .predicted').classList.contains('none')).toBe(true);
    expect($('[data-samples="eval"] .sample:nth-child(3) .truncated').textContent).toBe('truncated');
    const heightsFull = [...document.querySelectorAll<HTMLElement>('.chart')].map((c) => c.offsetHeight);
    expect(heightsFull).toEqual(heightsEmpty);
  });

  it('appends live points with throttled redraws, replaces a resumed run’s repeated steps, and shows the ETA', async () => {
    const { watch } = mount();
    await watch.show(runA);
    trainer.runs = [{ ...runA, status: 'running' }, runB]; // the worker stores a status before it sends it
    watch.onEvent({ type: 'status', status: 'running', message: 'resumed at step 5 of 10' });
    for (let s = 6; s <= 8; s++) watch.onEvent(step(s, 1.4 - s * 0.05));
    expect(points('loss')).toBe(5); // not redrawn per event
    await redraw();
    expect(points('loss')).toBe(8);
    expect($('#watch-progress-text').textContent).toBe('Step 8 of 10 · ETA 1 min 05 s · 250 tokens/s');
    expect($('#watch-status').textContent).toBe('Running: resumed at step 5 of 10');
    // The tab closed after step 8; the run resumed from the checkpoint at step 5 and trains 6 again.
    watch.onEvent(step(6, 0.9));
    await redraw();
    expect(points('loss')).toBe(6);
    expect($('[data-chart="loss"] .latest').textContent).toBe('0.9 at step 6');
    // Events of another run are not drawn here.
    watch.onEvent(step(7, 0.8), 'run-b');
    await redraw();
    expect(points('loss')).toBe(6);
    // Loading, tokenizing and evaluating are reported.
    watch.onEvent({ type: 'progress', phase: 'evaluating', done: 2, total: 4 });
    expect($('#watch-phase').textContent).toBe('Evaluating: 2 of 4…');
  });

  it('fills the after column and the samples at the next eval, and passes on the run’s fresh record after a checkpoint', async () => {
    const { watch } = mount();
    await watch.show(runA);
    watch.onEvent({
      type: 'eval', step: 10, accuracy: 0.75, bySteps: { 1: [2, 2], 2: [2, 1] }, passAtK: { k: 2, value: 1 },
      samples: [{ prompt: 'Q', completion: '#### 6', gold: '6', predicted: '6', correct: true }],
    });
    trainer.runs = [{ ...runA, checkpointStep: 10, status: 'completed' }, runB];
    watch.onEvent({ type: 'checkpoint', step: 10 });
    await redraw();
    expect(points('accuracy')).toBe(2);
    expect($('.eval-compare caption').textContent).toBe('Before (step 0) and after (step 10), 4 held-out problems');
    const cells = (row: string) => [...document.querySelectorAll(`[data-row="${row}"] td`)].map((td) => td.textContent);
    expect(cells('accuracy')).toEqual(['25.0% (1/4)', '75.0% (3/4)', '+50.0 pts']);
    expect(cells('pass-at-k')).toEqual(['—', '100.0%', '—']);
    expect(cells('steps-2')).toEqual(['0/2 (0.0%)', '1/2 (50.0%)', '+50.0 pts']);
    expect($('[data-samples="eval"] h4').textContent).toBe('Eval at step 10');
    expect($('#watch-phase').textContent).toBe('Checkpoint saved at step 10.');
    expect(updates.map((r) => [r.id, r.checkpointStep])).toEqual([['run-a', 10]]);
  });

  it('charts GRPO rewards as mean ± std and lists the completions with their rewards', async () => {
    const { watch } = mount();
    await watch.show({ ...runB, mode: 'grpo' });
    for (let s = 1; s <= 3; s++) {
      watch.onEvent({
        type: 'reward', step: s, rewardMean: 0.2 * s, rewardStd: 0.1, accuracy: 0.25, kl: 0, clipFraction: 0, decodeTokensPerSecond: 90,
        samples: [{ prompt: 'P', completion: 'C', gold: '1', predicted: '2', correct: false, reward: 0.1 * s, truncated: s === 3 }],
      });
    }
    await redraw();
    expect(points('reward')).toBe(3);
    expect($('[data-chart="reward"] .plot').getAttribute('aria-label')).toContain('latest 0.6 at step 3');
    expect($('[data-samples="grpo"] h4').textContent).toBe('GRPO completions at step 3');
    expect($('[data-samples="grpo"] .reward').textContent).toBe('reward 0.3');
    expect($('[data-samples="grpo"] .truncated').textContent).toBe('truncated');
  });

  it('applies events that arrive while the history loads after it, and a later show wins over a slower earlier one', async () => {
    const { watch } = mount();
    let release!: () => void;
    trainer.hold = new Promise((r) => (release = r));
    const loading = watch.show(runA);
    watch.onEvent(step(5, 1.45));
    watch.onEvent(step(6, 1.3));
    release();
    await loading;
    trainer.hold = null;
    expect(points('loss')).toBe(6);
    expect($('[data-chart="loss"] .latest').textContent).toBe('1.3 at step 6');

    let releaseA!: () => void;
    trainer.hold = new Promise((r) => (releaseA = r));
    const slow = watch.show(runA);
    trainer.hold = null;
    await watch.show(runB);
    releaseA();
    await slow;
    expect($('#watch').dataset.run).toBe('run-b');
    expect(points('loss')).toBe(0);

    await watch.show(runA);
    expect(points('loss')).toBe(5);
    await watch.show(null); // no run chosen
    expect($('#watch').dataset.run).toBeUndefined();
    expect(points('loss')).toBe(0);
    expect($('#watch-run').textContent).toContain('Choose a run');
    watch.onEvent(step(7, 0.8));
    await redraw();
    expect(points('loss')).toBe(0);
  });

  it('resizes its charts with the container', async () => {
    const { watch } = mount();
    await watch.show(runA);
    await sleep(100);
    const canvasWidth = () => $('[data-chart="loss"] .uplot').getBoundingClientRect().width;
    const plotWidth = () => $('[data-chart="loss"] .plot').clientWidth;
    expect(Math.abs(canvasWidth() - plotWidth())).toBeLessThanOrEqual(1);
    const wide = canvasWidth();
    document.body.style.width = '420px';
    await sleep(200);
    expect(canvasWidth()).toBeLessThan(wide);
    expect(Math.abs(canvasWidth() - plotWidth())).toBeLessThanOrEqual(1);
  });
});

describe('the Export panel', () => {
  const reason = (kind: string) => $(`#export-${kind}-reason`).textContent;
  const button = (kind: string) => $<HTMLButtonElement>(`#export-${kind}`);

  it('says why each export is unavailable', () => {
    const { exporter } = mount();
    for (const kind of ['safetensors', 'peft', 'metrics-csv', 'metrics-json', 'trajectories-jsonl']) {
      expect(button(kind).disabled).toBe(true);
      expect(reason(kind)).toBe('Choose a run first.');
      expect(button(kind).getAttribute('aria-describedby')).toBe(`export-${kind}-reason`);
    }
    exporter.show(runB);
    expect(button('safetensors').disabled).toBe(true);
    expect(reason('safetensors')).toBe('No checkpoint yet: one is saved every 5 steps, and on pause, stop and at the end.');
    expect(reason('peft')).toBe('This run fine-tunes the full model: there is no LoRA adapter. Export the model instead.');
    expect(button('metrics-csv').disabled).toBe(false);
    exporter.show({ ...runA, config: { ...config, lora: { rank: 8 } } });
    expect(button('safetensors').disabled).toBe(false);
    expect(button('peft').disabled).toBe(false);
    expect($('#export-run').textContent).toBe('From run “plan SFT”, checkpoint at step 5.');
  });

  it('downloads every file of an export and lists them as links; reports a failure', async () => {
    const { exporter } = mount();
    exporter.show(runA);
    let finish!: (f: ExportedFile[]) => void;
    trainer.exportAnswer = () => new Promise((r) => (finish = r));
    const clicked: string[] = [];
    document.addEventListener('click', (e) => {
      const a = e.target as HTMLElement;
      if (a instanceof HTMLAnchorElement && a.download) {
        clicked.push(a.download);
        e.preventDefault(); // the test checks the links, not the browser's download shelf
      }
    });
    button('safetensors').click();
    await sleep(0);
    expect(trainer.exports).toEqual([{ runId: 'run-a', kind: 'safetensors' }]);
    expect(button('metrics-csv').disabled).toBe(true); // one export at a time
    expect($('#export-status').textContent).toBe('Preparing model (safetensors) of “plan SFT”…');
    finish([{ name: 'model.safetensors', blob: new Blob([new Uint8Array(2048)]) }, { name: 'config.json', blob: new Blob(['{}']) }]);
    await expect.poll(() => $('#export-status').textContent).toContain('Saved 2 files of “plan SFT”: model.safetensors, config.json.');
    expect(clicked).toEqual(['model.safetensors', 'config.json']);
    const links = [...document.querySelectorAll<HTMLAnchorElement>('#export-files a')];
    expect(links.map((a) => [a.download, a.href.startsWith('blob:')])).toEqual([['model.safetensors', true], ['config.json', true]]);
    expect((await (await fetch(links[0].href)).arrayBuffer()).byteLength).toBe(2048);
    expect(button('metrics-csv').disabled).toBe(false);

    trainer.exportAnswer = () => Promise.reject(new Error('there is no checkpoint of run "run-a"'));
    button('metrics-csv').click();
    await expect.poll(() => $('#export-status').textContent).toBe('Export failed: there is no checkpoint of run "run-a"');
    expect($('#export-status').classList.contains('error')).toBe(true);
    exporter.show(runB);
    expect(document.querySelectorAll('#export-files a')).toHaveLength(0);
  });
});
