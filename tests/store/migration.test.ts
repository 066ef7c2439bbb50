import 'fake-indexeddb/auto';
import Dexie from 'dexie';
import { describe, expect, it } from 'vitest';
import { getDataset, getTrajectories } from '../../src/store/datasets';
import { SCHEMA_V1, SCHEMA_V2, openPlantuneDb, type TrajectoryRowV1 } from '../../src/store/db';
import { listEvals, storeEval } from '../../src/store/evals';
import { deleteRun } from '../../src/store/runs';
import { trajectory, uniqueDbName } from './fixtures';

function v1Row(id: string, problemId: string, inEval: boolean): TrajectoryRowV1 {
  const { split: _split, ...rest } = trajectory(id, problemId, 'train');
  return { ...rest, datasetId: 'gsm', inEval };
}

describe('schema migration', () => {
  it('opens a version-1 database with data as the current version, data intact and split indexed', async () => {
    const name = uniqueDbName();
    const v1 = new Dexie(name);
    v1.version(1).stores(SCHEMA_V1);
    const dataset = {
      id: 'gsm',
      name: 'gsm8k.jsonl',
      format: 'gsm8k',
      createdAt: 1000,
      counts: { trajectories: 3, problems: 3, train: 2, eval: 1 },
      split: { evalFraction: 0.3, seed: 1 },
      rejections: { total: 0, byReason: {}, examples: [] },
    };
    const rows = [v1Row('g:1', 'p1', false), v1Row('g:2', 'p2', true), v1Row('g:3', 'p3', false)];
    await v1.table('datasets').put(dataset);
    await v1.table('trajectories').bulkPut(rows);
    await v1.table('runs').put({ id: 'r1', name: 'run', mode: 'sft', config: { lr: 1 }, status: 'paused', createdAt: 1, updatedAt: 2 });
    await v1.table('metrics').put({ runId: 'r1', step: 5, name: 'loss', value: 0.5, time: 3 });
    expect(v1.verno).toBe(1);
    v1.close();

    const db = await openPlantuneDb({ name });
    expect(db.verno).toBe(3);
    expect(await getDataset(db, 'gsm')).toEqual(dataset);
    const stored = await getTrajectories(db, 'gsm');
    expect(stored).toHaveLength(3);
    for (const row of stored) {
      const before = rows.find((r) => r.id === row.id)!;
      const { inEval, ...rest } = before;
      expect(row).toEqual({ ...rest, split: inEval ? 'eval' : 'train' });
      expect('inEval' in row).toBe(false);
    }
    expect((await getTrajectories(db, 'gsm', 'eval')).map((t) => t.id)).toEqual(['g:2']);
    expect((await getTrajectories(db, 'gsm', 'train')).map((t) => t.id)).toEqual(['g:1', 'g:3']);
    expect(await db.runs.get('r1')).toMatchObject({ status: 'paused', config: { lr: 1 } });
    expect(await db.metrics.count()).toBe(1);
    db.close();
  });

  it('opens a version-2 database as version 3: data intact, an empty evals table that runs use and delete', async () => {
    const name = uniqueDbName();
    const v2 = new Dexie(name);
    v2.version(2).stores({ ...SCHEMA_V1, ...SCHEMA_V2 });
    const run = { id: 'r1', name: 'run', mode: 'sft', config: { lr: 1 }, status: 'completed', createdAt: 1, updatedAt: 2 };
    await v2.table('runs').put(run);
    await v2.table('metrics').bulkPut([5, 10].map((step) => ({ runId: 'r1', step, name: 'loss', value: 1 / step, time: 3 })));
    await v2.table('checkpoints').put({ runId: 'r1', step: 10, createdAt: 4, rng: [1], dataOrder: [], schedule: {}, files: [] });
    v2.close();

    const db = await openPlantuneDb({ name });
    expect(db.verno).toBe(3);
    expect(await db.runs.get('r1')).toEqual(run);
    expect(await db.metrics.count()).toBe(2);
    expect(await db.checkpoints.count()).toBe(1);
    expect(await db.evals.count()).toBe(0);
    await storeEval(db, 'r1', { step: 10, n: 2, accuracy: 0.5, bySteps: { 2: [2, 1] }, samples: [] });
    expect((await listEvals(db, 'r1')).map((e) => e.accuracy)).toEqual([0.5]);
    await deleteRun(db, 'r1');
    expect([await db.runs.count(), await db.metrics.count(), await db.checkpoints.count(), await db.evals.count()]).toEqual([0, 0, 0, 0]);
    db.close();
  });

  it('creates a fresh database directly at version 3', async () => {
    const db = await openPlantuneDb({ name: uniqueDbName() });
    expect(db.verno).toBe(3);
    expect(db.tables.map((t) => t.name).sort()).toEqual(
      ['checkpointFiles', 'checkpoints', 'datasets', 'evals', 'metrics', 'modelFiles', 'models', 'runs', 'trajectories'],
    );
    expect(db.trajectories.schema.idxByName['[datasetId+split]']).toBeDefined();
    expect(db.evals.schema.idxByName['runId']).toBeDefined();
    db.close();
  });
});
