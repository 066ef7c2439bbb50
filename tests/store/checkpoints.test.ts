import 'fake-indexeddb/auto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  deleteCheckpoint,
  getCheckpointFile,
  latestCheckpoint,
  listCheckpoints,
  pruneCheckpoints,
  saveCheckpoint,
  type NewCheckpoint,
} from '../../src/store/checkpoints';
import type { PlantuneDb } from '../../src/store/db';
import { blobBytes, bytes, openTestDb } from './fixtures';

const state = (runId: string, step: number): NewCheckpoint => ({
  runId,
  step,
  rng: Uint32Array.of(step, 0xdeadbeef, 3, 4),
  dataOrder: { epoch: 1, position: step * 8, order: Uint32Array.of(3, 1, 2, 0) },
  schedule: { lr: 3e-4 * (1 - step / 1000), warmup: 100, adamStep: step },
});

const buffers = (step: number) => ({ params: bytes(250, step), 'adam.m': bytes(250, step + 1), 'adam.v': bytes(250, step + 2) });

describe('checkpoints', () => {
  let db: PlantuneDb;
  beforeEach(async () => (db = await openTestDb()));
  afterEach(() => db.close());

  it('saves the full trainer state and its buffers, and reads them back exactly', async () => {
    const record = await saveCheckpoint(db, state('r1', 40), buffers(40), { keepLast: 3, chunkBytes: 100 });
    expect(record.files.map((f) => [f.name, f.bytes, f.chunks])).toEqual([
      ['params', 250, 3],
      ['adam.m', 250, 3],
      ['adam.v', 250, 3],
    ]);
    const latest = await latestCheckpoint(db, 'r1');
    expect(latest).toEqual(record);
    expect(latest?.rng).toBeInstanceOf(Uint32Array);
    expect(latest?.dataOrder).toEqual({ epoch: 1, position: 320, order: Uint32Array.of(3, 1, 2, 0) });
    expect(await blobBytes(await getCheckpointFile(db, 'r1', 40, 'adam.v'))).toEqual(bytes(250, 42));
    expect(await getCheckpointFile(db, 'r1', 40, 'nope')).toBeUndefined();
    expect(await getCheckpointFile(db, 'r1', 41, 'params')).toBeUndefined();
  });

  it('finds the latest checkpoint by numeric step, per run', async () => {
    for (const step of [9, 100, 10]) await saveCheckpoint(db, state('r1', step), buffers(step), { keepLast: 5 });
    await saveCheckpoint(db, state('r2', 500), buffers(500), { keepLast: 5 });
    expect((await latestCheckpoint(db, 'r1'))?.step).toBe(100);
    expect((await listCheckpoints(db, 'r1')).map((c) => c.step)).toEqual([9, 10, 100]);
    expect(await latestCheckpoint(db, 'none')).toBeUndefined();
  });

  it('keeps only the last K checkpoints of a run, with their buffers', async () => {
    for (const step of [10, 20, 30, 40]) {
      await saveCheckpoint(db, state('r1', step), buffers(step), { keepLast: 2, chunkBytes: 100 });
    }
    await saveCheckpoint(db, state('r2', 10), buffers(10), { keepLast: 2, chunkBytes: 100 });
    expect((await listCheckpoints(db, 'r1')).map((c) => c.step)).toEqual([30, 40]);
    expect(await db.checkpointFiles.where('runId').equals('r1').count()).toBe(2 * 9);
    expect(await db.checkpointFiles.where('[runId+step]').equals(['r1', 10]).count()).toBe(0);
    expect((await listCheckpoints(db, 'r2')).map((c) => c.step)).toEqual([10]);

    await pruneCheckpoints(db, 'r1', 1);
    expect((await listCheckpoints(db, 'r1')).map((c) => c.step)).toEqual([40]);
    expect(await db.checkpointFiles.where('runId').equals('r1').count()).toBe(9);
    expect(await blobBytes(await getCheckpointFile(db, 'r1', 40, 'params'))).toEqual(bytes(250, 40));
  });

  it('replaces a checkpoint saved again at the same step', async () => {
    await saveCheckpoint(db, state('r1', 10), buffers(10), { keepLast: 2, chunkBytes: 100 });
    await saveCheckpoint(db, state('r1', 10), { params: bytes(50, 7) }, { keepLast: 2, chunkBytes: 100 });
    expect(await db.checkpointFiles.count()).toBe(1);
    expect(await blobBytes(await getCheckpointFile(db, 'r1', 10, 'params'))).toEqual(bytes(50, 7));
  });

  it('deletes one checkpoint and its buffers', async () => {
    await saveCheckpoint(db, state('r1', 10), buffers(10), { keepLast: 3 });
    await saveCheckpoint(db, state('r1', 20), buffers(20), { keepLast: 3 });
    await deleteCheckpoint(db, 'r1', 20);
    expect((await latestCheckpoint(db, 'r1'))?.step).toBe(10);
    expect(await db.checkpointFiles.where('[runId+step]').equals(['r1', 20]).count()).toBe(0);
  });

  it('rejects a keepLast below one', async () => {
    await expect(saveCheckpoint(db, state('r1', 1), {}, { keepLast: 0 })).rejects.toThrow(RangeError);
    await expect(pruneCheckpoints(db, 'r1', 1.5)).rejects.toThrow(/keepLast must be an integer >= 1/);
  });
});
