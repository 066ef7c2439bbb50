import 'fake-indexeddb/auto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { latestCheckpoint, saveCheckpoint } from '../../src/store/checkpoints';
import type { PlantuneDb } from '../../src/store/db';
import { listEvals, storeEval } from '../../src/store/evals';
import { logMetrics, runMetrics } from '../../src/store/metrics';
import { deleteRun, getRun, listRuns, putRun, setRunStatus } from '../../src/store/runs';
import { bytes, openTestDb } from './fixtures';

describe('runs', () => {
  let db: PlantuneDb;
  beforeEach(async () => (db = await openTestDb()));
  afterEach(() => db.close());

  it('creates, updates and lists runs', async () => {
    const created = await putRun(db, { id: 'r1', name: 'sft-1', mode: 'sft', config: { lr: 3e-4, lora: { rank: 8 } } });
    expect(created.status).toBe('created');
    expect(created.updatedAt).toBe(created.createdAt);
    expect(await getRun(db, 'r1')).toEqual(created);

    const running = await setRunStatus(db, 'r1', 'running');
    expect(running.status).toBe('running');
    expect(running.createdAt).toBe(created.createdAt);
    const failed = await setRunStatus(db, 'r1', 'failed', 'device lost');
    expect(failed.error).toBe('device lost');
    expect((await setRunStatus(db, 'r1', 'running')).error).toBeUndefined();

    const replaced = await putRun(db, { id: 'r1', name: 'sft-1b', mode: 'sft', config: {}, status: 'paused' });
    expect(replaced.createdAt).toBe(created.createdAt);
    expect(replaced.status).toBe('paused');

    await new Promise((resolve) => setTimeout(resolve, 2));
    await putRun(db, { id: 'r2', name: 'grpo-1', mode: 'grpo', config: {} });
    expect((await listRuns(db)).map((r) => r.id)).toEqual(['r2', 'r1']);
    expect(await getRun(db, 'nope')).toBeUndefined();
  });

  it('refuses to set the status of a run that does not exist', async () => {
    await expect(setRunStatus(db, 'ghost', 'running')).rejects.toThrow('No run "ghost" in storage');
  });

  it('deletes a run with its checkpoints, metrics and evaluations, and nothing of other runs', async () => {
    for (const id of ['r1', 'r2']) {
      await putRun(db, { id, name: id, mode: 'sft', config: {} });
      for (const step of [10, 20]) {
        await saveCheckpoint(
          db,
          { runId: id, step, rng: [step], dataOrder: [0, 1], schedule: {} },
          { params: bytes(300) },
          { keepLast: 5, chunkBytes: 100 },
        );
        await logMetrics(db, id, step, { loss: 1 / step, 'tokens/s': 100 });
        await storeEval(db, id, { step, n: 1, accuracy: 0, bySteps: {}, samples: [] });
      }
    }
    await deleteRun(db, 'r1');
    expect(await getRun(db, 'r1')).toBeUndefined();
    expect(await latestCheckpoint(db, 'r1')).toBeUndefined();
    expect(await db.checkpointFiles.where('runId').equals('r1').count()).toBe(0);
    expect(await runMetrics(db, 'r1')).toEqual([]);
    expect(await listEvals(db, 'r1')).toEqual([]);

    expect((await getRun(db, 'r2'))?.id).toBe('r2');
    expect((await latestCheckpoint(db, 'r2'))?.step).toBe(20);
    expect(await db.checkpointFiles.count()).toBe(6);
    expect(await runMetrics(db, 'r2')).toHaveLength(4);
    expect((await listEvals(db, 'r2')).map((e) => e.step)).toEqual([10, 20]);
  });
});
