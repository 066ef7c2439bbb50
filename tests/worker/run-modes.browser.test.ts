// GRPO, offline RL and the model sources through the trainer worker's API in a real browser: a GRPO run
// streams reward events, stores every metric and its evaluations with pass@k; a GRPO run paused and
// resumed ends with the parameters of an uninterrupted one; offline RL on an imported dataset trains
// only on the rows its scores select; a stored model (modelId) and another run's weights (fromRun, LoRA
// merged) are what a run starts from; a diverging GRPO run fails naming the step.
import * as Comlink from 'comlink';
import { afterAll, describe, expect, it } from 'vitest';
import { byteLevelTokenizerJson } from '../../src/data/tokenizer/byte-level';
import { toHfConfig, tinyLlama } from '../../src/model/config';
import { exportHfModel, mergeLoraInto } from '../../src/model/hf-weights';
import { initParams } from '../../src/model/init';
import { paramLayout } from '../../src/model/param-layout';
import { getCheckpointFile, latestCheckpoint } from '../../src/store/checkpoints';
import { getTrajectories } from '../../src/store/datasets';
import { openPlantuneDb } from '../../src/store/db';
import { listEvals } from '../../src/store/evals';
import { metricSeries } from '../../src/store/metrics';
import { deleteModel, putModel } from '../../src/store/models';
import { deleteRun, getRun } from '../../src/store/runs';
import type { RunConfig, RunEvent, TrainerApi } from '../../src/worker/api';

const worker = new Worker(new URL('../../src/worker/trainer.worker.ts', import.meta.url), { type: 'module' });
const api = Comlink.wrap<TrainerApi>(worker);
const db = await openPlantuneDb();
const runIds: string[] = [];
const datasetIds: string[] = [];
const modelIds: string[] = [];

afterAll(async () => {
  for (const id of runIds) await deleteRun(db, id);
  for (const id of datasetIds) await api.deleteDataset(id);
  for (const id of modelIds) await deleteModel(db, id);
  db.close();
  api[Comlink.releaseProxy]();
  worker.terminate();
});

const cfg = tinyLlama({ V: 260, C: 32, F: 48, L: 2, NH: 4, NKV: 2, maxT: 160 });
const random = { config: toHfConfig(cfg), init: 'random' as const, seed: 3 };

const grpo: RunConfig = {
  mode: 'grpo', model: random, data: { synthetic: 12 }, style: 'direct',
  steps: 3, batch: 8, lr: 1e-3, seq: 160, evalCount: 2, passK: 2, maxNewTokens: 8, checkpointEvery: 1,
  grpo: { prompts: 2, G: 4 },
};

/** Runs to the end (or failure) and returns its events. */
async function runToEnd(config: RunConfig): Promise<{ runId: string; events: RunEvent[] }> {
  const events: RunEvent[] = [];
  let finish: () => void = () => {};
  const ended = new Promise<void>((resolve) => (finish = resolve));
  const onEvent = Comlink.proxy((ev: RunEvent) => {
    events.push(ev);
    if (ev.type === 'status' && ev.status !== 'running') finish();
  });
  const runId = await api.startRun(config, onEvent);
  runIds.push(runId);
  await ended;
  return { runId, events };
}

const of = <T extends RunEvent['type']>(events: RunEvent[], type: T) => events.filter((ev): ev is Extract<RunEvent, { type: T }> => ev.type === type);
const lastStatus = (events: RunEvent[]) => of(events, 'status').at(-1);

async function checkpointValues(runId: string, name: string): Promise<Float32Array> {
  const step = (await latestCheckpoint(db, runId))!.step;
  return new Float32Array(await (await getCheckpointFile(db, runId, step, name))!.arrayBuffer());
}

const maxAbsDiff = (a: Float32Array, b: Float32Array): number => a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0);

describe('GRPO, offline RL and model sources in the trainer worker', () => {
  it('GRPO streams step and reward events, stores its metrics and evaluations with pass@k', async () => {
    // A model vocabulary padded past the byte tokenizer's 260: sampled ids beyond it read as U+FFFD.
    const padded = { ...random, config: toHfConfig({ ...cfg, V: 300 }) };
    const { runId, events } = await runToEnd({ ...grpo, model: padded, evalEvery: 2 });
    expect(lastStatus(events)).toEqual({ type: 'status', status: 'completed', message: 'finished 3 steps' });
    expect(of(events, 'status')[0].message).toMatch(/^training 3 steps on \d+ prompts.*; evaluating on 2 held-out problems$/);
    expect(of(events, 'step').map((ev) => ev.step)).toEqual([1, 2, 3]);
    const rewards = of(events, 'reward');
    expect(rewards.map((ev) => ev.step)).toEqual([1, 2, 3]);
    for (const r of rewards) {
      for (const k of ['rewardMean', 'rewardStd', 'accuracy', 'kl', 'clipFraction', 'decodeTokensPerSecond'] as const) expect(Number.isFinite(r[k]), k).toBe(true);
      expect(r.samples).toHaveLength(4);
      expect(r.samples[0]).toMatchObject({ prompt: expect.stringMatching(/^Question: /), completion: expect.any(String), reward: expect.any(Number), gold: expect.any(String), correct: expect.any(Boolean) });
    }
    const names = ['loss', 'lr', 'gradNorm', 'tokensPerSecond', 'rewardMean', 'rewardStd', 'rewardAccuracy', 'kl', 'clipFraction', 'decodeTokensPerSecond'];
    for (const name of names) expect((await metricSeries(db, runId, name)).map((p) => p.step), name).toEqual([1, 2, 3]);
    expect((await metricSeries(db, runId, 'accuracy')).map((p) => p.step)).toEqual([0, 2, 3]);
    expect((await metricSeries(db, runId, 'passAtK')).map((p) => p.step)).toEqual([0, 2, 3]);
    const evals = await listEvals(db, runId);
    expect(evals.map((ev) => ev.step)).toEqual([0, 2, 3]);
    for (const ev of evals) {
      expect(ev.n).toBe(2);
      expect(ev.passAtK?.k).toBe(2);
      expect(ev.passAtK!.value).toBeGreaterThanOrEqual(0);
      expect(ev.passAtK!.value).toBeLessThanOrEqual(1);
    }
    expect(of(events, 'eval').map((ev) => [ev.step, ev.passAtK?.k])).toEqual([[0, 2], [2, 2], [3, 2]]);
    expect(rewards.some((r) => r.samples.some((x) => x.completion.includes('\uFFFD')))).toBe(true);
    const evaluating = of(events, 'progress').filter((ev) => ev.phase === 'evaluating');
    expect(evaluating.at(-1)).toMatchObject({ done: 6, total: 6 }); // 2 greedy + 2·2 sampled
    expect((await api.listRuns()).find((r) => r.id === runId)).toMatchObject({ mode: 'grpo', checkpointStep: 3, config: { grpo: { prompts: 2, G: 4, beta: 0, temperature: 1 } } });
  });

  it('GRPO (LoRA, KL, 2 iterations) paused after step 1 and resumed ends with the parameters of an uninterrupted run', async () => {
    const config: RunConfig = { ...grpo, evalCount: 0, lr: 5e-3, lora: { rank: 2 }, grpo: { prompts: 2, G: 4, beta: 0.04, numIterations: 2 } };
    const straight = await runToEnd(config);
    expect(lastStatus(straight.events)?.status).toBe('completed');

    const events: RunEvent[] = [];
    let paused: () => void = () => {};
    const pausedNow = new Promise<void>((resolve) => (paused = resolve));
    let runId = '';
    runId = await api.startRun(config, Comlink.proxy((ev: RunEvent) => {
      events.push(ev);
      if (ev.type === 'step' && ev.step === 1) void api.pauseRun(runId);
      if (ev.type === 'status' && ev.status === 'paused') paused();
    }));
    runIds.push(runId);
    await pausedNow;
    const pausedAt = Math.max(...of(events, 'step').map((ev) => ev.step));
    expect(pausedAt).toBeLessThan(3);
    expect((await latestCheckpoint(db, runId))?.step).toBe(pausedAt);

    const resumed: RunEvent[] = [];
    let done: () => void = () => {};
    const finished = new Promise<void>((resolve) => (done = resolve));
    await api.resumeRun(runId, Comlink.proxy((ev: RunEvent) => {
      resumed.push(ev);
      if (ev.type === 'status' && ev.status !== 'running') done();
    }));
    await finished;
    expect(of(resumed, 'status')[0].message).toBe(`resumed at step ${pausedAt} of 3`);
    expect(of(resumed, 'reward').map((ev) => ev.step)).toEqual(Array.from({ length: 3 - pausedAt }, (_, i) => pausedAt + 1 + i));
    expect(lastStatus(resumed)?.status).toBe('completed');

    const want = await checkpointValues(straight.runId, 'lora');
    const got = await checkpointValues(runId, 'lora');
    const diff = maxAbsDiff(got, want);
    const moved = maxAbsDiff(want, new Float32Array(want.length));
    console.log(`GRPO resume: max |resumed - straight| = ${diff.toExponential(2)} over ${want.length} LoRA parameters (largest |value| ${moved.toExponential(2)})`);
    expect(got.every(Number.isFinite)).toBe(true);
    expect(diff).toBeLessThan(1e-6);
    expect(maxAbsDiff(await checkpointValues(runId, 'adam.v'), await checkpointValues(straight.runId, 'adam.v'))).toBeLessThan(1e-9);
    // The rewards of the resumed steps are the uninterrupted run's.
    expect(of(resumed, 'reward').map((ev) => ev.rewardMean)).toEqual(of(straight.events, 'reward').slice(pausedAt).map((ev) => ev.rewardMean));
  });

  it('fails a diverging GRPO run naming the step, keeping the last good checkpoint', async () => {
    const { runId, events } = await runToEnd({ ...grpo, evalCount: 0, lr: 1e30, steps: 4 });
    const status = lastStatus(events)!;
    console.log(`GRPO at lr 1e30: ${status.message}`);
    expect(status.status).toBe('failed');
    const [, step, tail] = /^training diverged: (?:the (?:loss|gradient norm) is \S+ at step (\d)|after step (\d) the parameters hold \S+).*; (.*)$/.exec(status.message)?.filter((x) => x !== undefined) ?? [];
    expect(tail, status.message).toBeDefined();
    const kept = Number(step) - 1;
    expect(tail).toBe(kept > 0 ? `the checkpoint at step ${kept} is kept` : 'no checkpoint was saved');
    expect((await api.listRuns()).find((r) => r.id === runId)).toMatchObject({ status: 'failed', checkpointStep: kept });
  });

  it('offline RL trains on the rows its scores select: the dataset\'s own, or computed from each row\'s answer', async () => {
    // Row i: "What is a plus b?"; the dataset scores even rows 1, while the row's own solution is right unless i % 3 === 0.
    const rows = Array.from({ length: 16 }, (_, i) => {
      const [a, b] = [i + 2, 2 * i + 5];
      const own = i % 3 === 0 ? a + b + 1 : a + b;
      return JSON.stringify({ id: `r${i}`, question: `What is ${a} plus ${b}?`, plan: [{ subQuestion: `What is ${a} + ${b}?`, subAnswer: `${a} + ${b} = ${own}` }], solution: `${a} + ${b} = ${own}\n#### ${own}`, finalAnswer: a + b, rewards: { answerCorrectness: i % 2 === 0 ? 1 : 0 } });
    });
    const imported = await api.importDataset([new File([rows.join('\n')], 'scored.jsonl')], { evalFraction: 0.25, seed: 1 });
    datasetIds.push(imported.datasetId!);
    const train = await getTrajectories(db, imported.datasetId!, 'train');
    const index = train.map((t) => Number(t.id.slice(1)));
    const base: RunConfig = { mode: 'offline', model: random, data: { datasetId: imported.datasetId! }, steps: 1, batch: 2, lr: 1e-3, seq: 160, evalCount: 0, checkpointEvery: 1 };

    const cases: [RunConfig['offline'], string][] = [
      [{ method: 'filtered' }, `${index.filter((i) => i % 2 === 0).length} examples (filtered BC: the correct ones of ${train.length} scored)`],
      [{ method: 'filtered', scores: 'computed' }, `${index.filter((i) => i % 3 !== 0).length} examples (filtered BC: the correct ones of ${train.length} scored)`],
      [{ method: 'weighted' }, `${train.length} examples (reward-weighted BC: every scored one, weighted by its score)`],
    ];
    for (const [offline, note] of cases) {
      const { runId, events } = await runToEnd({ ...base, offline });
      expect(of(events, 'status').map((ev) => ev.message)).toEqual([`training 1 steps on ${note}`, 'finished 1 steps']);
      expect((await getRun(db, runId))?.mode).toBe(offline!.method === 'weighted' ? 'reward-weighted-bc' : 'filtered-bc');
    }

    const wrong = rows.map((r) => r.replace('"answerCorrectness":1', '"answerCorrectness":0'));
    const none = await api.importDataset([new File([wrong.join('\n')], 'all-wrong.jsonl')], { evalFraction: 0.25, seed: 1 });
    datasetIds.push(none.datasetId!);
    const before = (await api.listRuns()).length;
    await expect(api.startRun({ ...base, data: { datasetId: none.datasetId! }, offline: { method: 'filtered' } }, Comlink.proxy(() => {})))
      .rejects.toThrow(/^none of the \d+ scored training rows is correct \(answer correctness 1\): filtered BC has nothing to train on/);
    await expect(api.startRun({ ...base, data: { synthetic: 8 }, offline: { method: 'weighted' } }, Comlink.proxy(() => {})))
      .rejects.toThrow(/^none of the \d+ training rows has a score \(rewards.answerCorrectness\)/);
    expect((await api.listRuns()).length).toBe(before);
  });

  it('starts from a stored model (modelId), and from another run\'s weights with its LoRA merged (fromRun)', async () => {
    const layout = paramLayout(cfg);
    const params = initParams(layout, 21, 0.05);
    const hf = exportHfModel(layout, params);
    const modelId = `test-model-${Date.now()}`;
    await putModel(db, { id: modelId, name: 'test model', config: JSON.parse(hf.configJson) }, {
      'config.json': new Blob([hf.configJson]), 'model.safetensors': hf.safetensors, 'tokenizer.json': new Blob([JSON.stringify(byteLevelTokenizerJson())]),
    });
    modelIds.push(modelId);
    const sft: RunConfig = { mode: 'sft', modelId, data: { synthetic: 8 }, style: 'direct', steps: 2, batch: 2, lr: 1e-2, seq: 160, evalCount: 0, checkpointEvery: 2, lora: { rank: 2, targets: ['q_proj', 'v_proj'] } };
    const first = await runToEnd(sft);
    expect(lastStatus(first.events)?.message).toBe('finished 2 steps');
    const lora = await checkpointValues(first.runId, 'lora');

    // A full fine-tuning run from it, with a learning rate too small to move anything: its checkpoint holds the start weights.
    const second = await runToEnd({ ...sft, modelId: undefined, fromRun: first.runId, lora: undefined, steps: 1, lr: 1e-12, checkpointEvery: 1 });
    expect(lastStatus(second.events)?.message).toBe('finished 1 steps');
    expect((await getRun(db, second.runId))?.config).toMatchObject({ fromRun: first.runId, fromStep: 2 });
    const merged = mergeLoraInto(paramLayout(cfg, { rank: 2, alpha: 4, targets: ['q_proj', 'v_proj'] }), params, lora);
    const start = await checkpointValues(second.runId, 'params');
    const fromMerged = maxAbsDiff(start, merged);
    console.log(`fromRun: max |start - (base + merged LoRA)| = ${fromMerged.toExponential(2)}; the LoRA moved the base by ${maxAbsDiff(merged, params).toExponential(2)}`);
    expect(maxAbsDiff(merged, params)).toBeGreaterThan(1e-5);
    expect(fromMerged).toBeLessThan(1e-6);

    await expect(api.startRun({ ...sft, fromRun: first.runId, modelDir: '/models/plantune-tiny/', modelId: undefined }, Comlink.proxy(() => {})))
      .rejects.toThrow(`run "${first.runId}" started from modelId ${modelId}, but this run names modelDir /models/plantune-tiny/`);
    await expect(api.startRun({ ...sft, modelId: 'no-such-model' }, Comlink.proxy(() => {}))).rejects.toThrow(/there is no stored model "no-such-model"/);
  });
});
