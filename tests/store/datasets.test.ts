import 'fake-indexeddb/auto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  deleteDataset,
  getDataset,
  getTrajectories,
  listDatasets,
  putDataset,
  type NewDataset,
} from '../../src/store/datasets';
import type { PlantuneDb } from '../../src/store/db';
import { openTestDb, trajectory } from './fixtures';

const info = (id: string, createdAt: number): NewDataset => ({
  id,
  name: `${id}.jsonl`,
  format: 'gsm8k-socratic',
  createdAt,
  split: { evalFraction: 0.2, seed: 7 },
  rejections: { total: 1, byReason: { 'missing final answer': 1 }, examples: [{ file: `${id}.jsonl`, line: 4, reason: 'missing final answer' }] },
});

describe('datasets', () => {
  let db: PlantuneDb;
  beforeEach(async () => (db = await openTestDb()));
  afterEach(() => db.close());

  it('stores a dataset with its trajectories and computes its counts', async () => {
    const rows = [trajectory('a:1', 'p1', 'train'), trajectory('a:2', 'p1', 'train'), trajectory('a:3', 'p2', 'eval')];
    const record = await putDataset(db, info('a', 1000), rows);
    expect(record.counts).toEqual({ trajectories: 3, problems: 2, train: 2, eval: 1 });
    expect(await getDataset(db, 'a')).toEqual(record);

    const stored = await getTrajectories(db, 'a');
    expect(stored).toHaveLength(3);
    expect(stored.find((t) => t.id === 'a:3')).toEqual({ ...rows[2], datasetId: 'a' });
    expect((await getTrajectories(db, 'a', 'eval')).map((t) => t.id)).toEqual(['a:3']);
    expect((await getTrajectories(db, 'a', 'train')).map((t) => t.id).sort()).toEqual(['a:1', 'a:2']);
  });

  it('lists newest first and returns undefined for an unknown id', async () => {
    await putDataset(db, info('old', 1000), [trajectory('o:1', 'p1', 'train')]);
    await putDataset(db, info('new', 2000), [trajectory('n:1', 'p1', 'train')]);
    expect((await listDatasets(db)).map((d) => d.id)).toEqual(['new', 'old']);
    expect(await getDataset(db, 'nope')).toBeUndefined();
  });

  it('replaces the trajectories of a dataset stored again under the same id', async () => {
    await putDataset(db, info('a', 1000), [trajectory('a:1', 'p1', 'train'), trajectory('a:2', 'p2', 'eval')]);
    const again = await putDataset(db, info('a', 1000), [trajectory('a:9', 'p9', 'train')]);
    expect(again.counts.trajectories).toBe(1);
    expect((await getTrajectories(db, 'a')).map((t) => t.id)).toEqual(['a:9']);
  });

  it('deletes a dataset together with its trajectories, and only those', async () => {
    await putDataset(db, info('a', 1000), [trajectory('x:1', 'p1', 'train'), trajectory('x:2', 'p2', 'eval')]);
    await putDataset(db, info('b', 2000), [trajectory('x:1', 'p1', 'train')]);
    await deleteDataset(db, 'a');
    expect(await getDataset(db, 'a')).toBeUndefined();
    expect(await getTrajectories(db, 'a')).toEqual([]);
    expect(await db.trajectories.count()).toBe(1);
    expect((await getTrajectories(db, 'b')).map((t) => [t.datasetId, t.id])).toEqual([['b', 'x:1']]);
  });

  it('indexes trajectories by problem across datasets', async () => {
    await putDataset(db, info('a', 1000), [trajectory('a:1', 'gsm8k-test-17', 'eval')]);
    await putDataset(db, info('b', 2000), [trajectory('b:1', 'gsm8k-test-17', 'train'), trajectory('b:2', 'other', 'train')]);
    const same = await db.trajectories.where('problemId').equals('gsm8k-test-17').toArray();
    expect(same.map((t) => t.datasetId).sort()).toEqual(['a', 'b']);
  });
});
