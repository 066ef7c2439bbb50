// The trainer worker's run API in a real browser: a tiny SFT run streams step events, pauses with a
// checkpoint in IndexedDB, resumes from it and finishes; divergence and missing model files fail
// with a clear status.
import * as Comlink from 'comlink';
import { afterAll, describe, expect, it } from 'vitest';
import { toHfConfig, tinyLlama } from '../../src/model/config';
import { latestCheckpoint } from '../../src/store/checkpoints';
import { openPlantuneDb } from '../../src/store/db';
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
  it('streams steps, pauses with a stored checkpoint, resumes and finishes', async () => {
    const first = listen();
    const runId = await api.startRun(config, first.onEvent);
    runIds.push(runId);
    await first.until((ev) => ev.type === 'step' && ev.step >= 2);
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
    expect((await metricSeries(db, runId, 'accuracy')).map((p) => p.step)).toEqual([8]);
    await expect(api.resumeRun(runId, Comlink.proxy(() => {}))).rejects.toThrow(/completed/);
  });

  it('fails a diverging run with the step, keeping the last good checkpoint', async () => {
    const run = listen();
    const runId = await api.startRun({ ...config, lr: 1e30, evalCount: 0, steps: 4, checkpointEvery: 1 }, run.onEvent);
    runIds.push(runId);
    const failed = await run.until(isStatus('failed'));
    const [, bad, kept] = /^training diverged: the loss is (?:NaN|-?Infinity) at step (\d).*; the checkpoint at step (\d) is kept$/.exec((failed as { message: string }).message) ?? [];
    expect(Number(kept)).toBe(Number(bad) - 1); // a checkpoint every step: the last good one
    const info = (await api.listRuns()).find((r) => r.id === runId)!;
    expect(info).toMatchObject({ status: 'failed', checkpointStep: Number(kept) });
    expect(info.error).toMatch(/^training diverged/);
  });

  it('stops a run early with a final checkpoint', async () => {
    const run = listen();
    const runId = await api.startRun({ ...config, evalCount: 0 }, run.onEvent);
    runIds.push(runId);
    await run.until((ev) => ev.type === 'step');
    await api.stopRun(runId);
    const at = Math.max(...steps(run.events));
    expect(run.events.at(-1)).toEqual({ type: 'status', status: 'completed', message: `stopped at step ${at} of 8` });
    expect((await api.listRuns()).find((r) => r.id === runId)).toMatchObject({ status: 'completed', checkpointStep: at });
  });

  it('says clearly when the model files are missing', async () => {
    const run = listen();
    const { model: _model, ...rest } = config;
    const runId = await api.startRun({ ...rest, modelDir: '/models/no-such-model/' }, run.onEvent);
    runIds.push(runId);
    const failed = await run.until(isStatus('failed'));
    expect(failed).toMatchObject({ message: expect.stringMatching(/the model files are missing: \/models\/no-such-model\/config\.json .*make:default-model/) });
  });
});
