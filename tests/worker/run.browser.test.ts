// The trainer worker's run API in a real browser: a tiny SFT run streams step events, evaluates
// before and after, pauses with a checkpoint in IndexedDB, resumes from it and finishes; divergence
// fails with a clear status and keeps the last good checkpoint; a config that is wrong or cannot
// fit is refused before anything is stored.
import * as Comlink from 'comlink';
import { afterAll, describe, expect, it } from 'vitest';
import { toHfConfig, tinyLlama } from '../../src/model/config';
import { getCheckpointFile, latestCheckpoint } from '../../src/store/checkpoints';
import { openPlantuneDb } from '../../src/store/db';
import { listEvals } from '../../src/store/evals';
import { metricSeries } from '../../src/store/metrics';
import { deleteRun } from '../../src/store/runs';
import type { RunConfig, RunEvent, TrainerApi } from '../../src/worker/api';

const worker = new Worker(new URL('../../src/worker/trainer.worker.ts', import.meta.url), { type: 'module' });
const api = Comlink.wrap<TrainerApi>(worker);
// The worker uses the default database; the page shares it (same origin) to look inside.
const db = await openPlantuneDb();
const runIds: string[] = [];

afterAll(async () => {
  for (const id of runIds) await deleteRun(db, id);
  db.close();
  api[Comlink.releaseProxy]();
  worker.terminate();
});

const config: RunConfig = {
  mode: 'sft',
  model: { config: toHfConfig(tinyLlama({ V: 260, C: 32, F: 48, L: 2, NH: 4, NKV: 2, maxT: 160 })), init: 'random', seed: 3 },
  data: { synthetic: 16 },
  style: 'direct',
  steps: 8, batch: 2, lr: 3e-3, seq: 160, evalCount: 2, maxNewTokens: 6, checkpointEvery: 3,
};

/** Collects a run's events; `until` resolves when one matches. */
function listen(): { events: RunEvent[]; onEvent: (ev: RunEvent) => void; until(match: (ev: RunEvent) => boolean): Promise<RunEvent> } {
  const events: RunEvent[] = [];
  const waiting: [(ev: RunEvent) => boolean, (ev: RunEvent) => void][] = [];
  const onEvent = (ev: RunEvent): void => {
    events.push(ev);
    for (const [match, resolve] of waiting) if (match(ev)) resolve(ev);
  };
  return {
    events,
    onEvent: Comlink.proxy(onEvent),
    until: (match) => new Promise((resolve) => {
      const seen = events.find(match);
      if (seen) resolve(seen);
      else waiting.push([match, resolve]);
    }),
  };
}

const isStatus = (status: string) => (ev: RunEvent) => ev.type === 'status' && ev.status === status;
const steps = (events: RunEvent[]) => events.flatMap((ev) => (ev.type === 'step' ? [ev.step] : []));

describe('training runs in the trainer worker', () => {
  it('streams steps, evaluates before and after, pauses with a stored checkpoint, resumes and finishes', async () => {
    const first = listen();
    const runId = await api.startRun(config, first.onEvent);
    runIds.push(runId);
    await first.until((ev) => ev.type === 'step' && ev.step >= 2);
    expect(first.events.find((ev) => ev.type === 'eval')).toMatchObject({ step: 0, accuracy: expect.any(Number), samples: expect.any(Array) });
    expect(first.events.some((ev) => ev.type === 'progress' && ev.phase === 'tokenizing')).toBe(true);
    expect(first.events.find(isStatus('running'))).toMatchObject({ message: expect.stringMatching(/^training 8 steps on \d+ examples( \(\d+ longer than seq 160 left out\))?; evaluating on 2 held-out problems$/) });
    await api.pauseRun(runId);
    const pausedAt = Math.max(...steps(first.events));
    expect(first.events.find(isStatus('paused'))).toMatchObject({ message: `paused at step ${pausedAt} of 8` });
    expect(first.events.filter((ev) => ev.type === 'checkpoint').at(-1)).toEqual({ type: 'checkpoint', step: pausedAt });
    const step = first.events.find((ev) => ev.type === 'step');
    expect(step).toMatchObject({ step: 1, lr: expect.any(Number), gradNorm: expect.any(Number), tokensPerSecond: expect.any(Number), eta: expect.any(Number) });
    expect(Number.isFinite((step as { loss: number }).loss)).toBe(true);

    const paused = (await api.listRuns()).find((r) => r.id === runId);
    expect(paused).toMatchObject({ status: 'paused', mode: 'sft', checkpointStep: pausedAt, config: { steps: 8, seed: 1, keepLast: 2 } });
    const ckpt = await latestCheckpoint(db, runId);
    expect(ckpt?.files.map((f) => f.name).sort()).toEqual(['adam.m', 'adam.v', 'params']);
    expect((await metricSeries(db, runId, 'loss')).map((p) => p.step)).toEqual(steps(first.events));

    const second = listen();
    await api.resumeRun(runId, second.onEvent);
    await second.until((ev) => ev.type === 'status' && ev.status !== 'running');
    expect(second.events.find(isStatus('running'))).toMatchObject({ message: `resumed at step ${pausedAt} of 8` });
    expect(steps(second.events)).toEqual(Array.from({ length: 8 - pausedAt }, (_, i) => pausedAt + 1 + i));
    expect(second.events.find((ev) => ev.type === 'eval')).toMatchObject({ step: 8, accuracy: expect.any(Number) });
    expect(second.events.at(-1)).toEqual({ type: 'status', status: 'completed', message: 'finished 8 steps' });
    expect((await api.listRuns()).find((r) => r.id === runId)).toMatchObject({ status: 'completed', checkpointStep: 8 });
    expect((await metricSeries(db, runId, 'loss')).map((p) => p.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect((await metricSeries(db, runId, 'accuracy')).map((p) => p.step)).toEqual([0, 8]);
    const evals = await listEvals(db, runId);
    expect(evals.map((ev) => [ev.step, ev.n, ev.samples.length])).toEqual([[0, 2, 2], [8, 2, 2]]);
    await expect(api.resumeRun(runId, Comlink.proxy(() => {}))).rejects.toThrow(/completed/);
  });

  it('fails a diverging run with the step, keeping the last good checkpoint', async () => {
    const run = listen();
    const runId = await api.startRun({ ...config, lr: 1e30, evalCount: 0, steps: 4, checkpointEvery: 1 }, run.onEvent);
    runIds.push(runId);
    const { message } = (await run.until(isStatus('failed'))) as { message: string };
    console.log(`SFT at lr 1e30: ${message}`);
    // Caught by the loss read back after a step, or by the checkpoint refusing non-finite parameters.
    const [, lossStep, paramStep, tail] = /^training diverged: (?:the loss is (?:NaN|-?Infinity) at step (\d)|after step (\d) the parameters hold (?:NaN|-?Infinity)).*; (.*)$/.exec(message) ?? [];
    expect(tail, message).toBeDefined();
    const kept = Number(lossStep ?? paramStep) - 1; // a checkpoint every step: the last good one
    expect(tail).toBe(kept > 0 ? `the checkpoint at step ${kept} is kept` : 'no checkpoint was saved');
    const info = (await api.listRuns()).find((r) => r.id === runId)!;
    expect(info).toMatchObject({ status: 'failed', checkpointStep: kept });
    expect(info.error).toMatch(/^training diverged/);
    if (kept > 0) {
      const params = new Float32Array(await (await getCheckpointFile(db, runId, kept, 'params'))!.arrayBuffer());
      expect(params.every(Number.isFinite)).toBe(true);
    }
  });

  it('stops a run early with a final checkpoint', async () => {
    const run = listen();
    const runId = await api.startRun({ ...config, evalCount: 0 }, run.onEvent);
    runIds.push(runId);
    await run.until((ev) => ev.type === 'step');
    await api.stopRun(runId);
    // Events and the call's answer are separate messages: wait for the last event.
    await run.until(isStatus('completed'));
    const at = Math.max(...steps(run.events));
    expect(run.events.at(-1)).toEqual({ type: 'status', status: 'completed', message: `stopped at step ${at} of 8` });
    expect((await api.listRuns()).find((r) => r.id === runId)).toMatchObject({ status: 'completed', checkpointStep: at });
  });

  it('refuses before start, storing nothing, a config that is wrong or cannot fit', async () => {
    const { model: _model, ...noModel } = config;
    const big = (cfg: Parameters<typeof tinyLlama>[0]) => ({ config: toHfConfig(tinyLlama(cfg)), init: 'random' as const, seed: 1 });
    const refused: [RunConfig, RegExp][] = [
      [{ ...noModel, modelDir: '/models/no-such-model/' }, /the model files are missing: \/models\/no-such-model\/config\.json .*make:default-model/],
      [{ ...config, mode: 'dpo' as RunConfig['mode'] }, /mode "dpo" is unknown/],
      [{ ...config, steps: 0 }, /steps must be a positive integer, got 0/],
      [{ ...config, lr: Number.NaN }, /lr must be a number > 0, got NaN/],
      [{ ...config, batch: 2.5 }, /batch must be a positive integer, got 2.5/],
      [{ ...config, seq: 400 }, /seq 400 exceeds the model's context of 160 tokens/],
      [{ ...config, mode: 'grpo', grpo: { beta: 0.04 } }, /grpo.beta 0.04 needs LoRA/],
      [{ ...config, mode: 'grpo', grpo: { G: 1 } }, /grpo.G must be at least 2/],
      [{ ...config, mode: 'offline' }, /mode "offline" needs offline settings/],
      [{ ...config, mode: 'offline', offline: { method: 'best' as 'filtered' } }, /offline.method must be filtered or weighted/],
      [{ ...config, data: { datasetId: 'no-such-dataset' } }, /there is no stored dataset "no-such-dataset"/],
      [{ ...config, fromRun: 'no-such-run' }, /there is no run "no-such-run" to start from/],
      [{ ...config, model: big({ V: 260, C: 32, F: 48, L: 2, NH: 4, NKV: 2, maxT: 640 }), batch: 4096, seq: 640 }, /^this run does not fit: .*(batch|seq)/],
      [{ ...config, model: big({ V: 32000, C: 8192, F: 22016, L: 64, NH: 64, NKV: 8, maxT: 640 }) }, /^this run does not fit: /],
    ];
    const before = (await api.listRuns()).length;
    for (const [bad, why] of refused) await expect(api.startRun(bad, Comlink.proxy(() => {}))).rejects.toThrow(why);
    expect((await api.listRuns()).length).toBe(before);
  });
});
