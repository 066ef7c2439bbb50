import 'fake-indexeddb/auto';
import Dexie from 'dexie';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { saveCheckpoint } from '../../src/store/checkpoints';
import { putDataset } from '../../src/store/datasets';
import { SCHEMA_V1, SCHEMA_V2, SCHEMA_V3, openPlantuneDb, type PlantuneDb } from '../../src/store/db';
import { QuotaExceededError, StorageUnavailableError, formatBytes } from '../../src/store/errors';
import { logMetrics } from '../../src/store/metrics';
import { putModel } from '../../src/store/models';
import { getRun, setRunStatus } from '../../src/store/runs';
import { bytes, openTestDb, trajectory, uniqueDbName } from './fixtures';

const quotaError = () => new DOMException('The quota has been exceeded.', 'QuotaExceededError');

describe('quota exceeded', () => {
  let db: PlantuneDb;
  beforeEach(async () => (db = await openTestDb()));
  afterEach(() => {
    vi.restoreAllMocks();
    vi.unstubAllGlobals();
    db.close();
  });

  it('says how much was being written, what the browser reports, and what to do', async () => {
    vi.stubGlobal('navigator', { storage: { estimate: async () => ({ usage: 1_930_000_000, quota: 2_000_000_000 }) } });
    vi.spyOn(IDBObjectStore.prototype, 'put').mockImplementation(() => {
      throw quotaError();
    });
    const error = await saveCheckpoint(
      db,
      { runId: 'r1', step: 400, rng: [1], dataOrder: [], schedule: {} },
      { params: new Uint8Array(3_000_000), 'adam.m': new Uint8Array(3_000_000), 'adam.v': new Uint8Array(3_000_000) },
      { keepLast: 2 },
    ).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(QuotaExceededError);
    const quota = error as QuotaExceededError;
    expect(quota.bytes).toBe(9_000_000);
    expect(quota.estimate).toEqual({ usage: 1_930_000_000, quota: 2_000_000_000 });
    expect(quota.message).toBe(
      'Not enough browser storage to save checkpoint at step 400 of run "r1" (9.0 MB). ' +
        'This site already uses 1.9 GB of the 2.0 GB the browser allows it. ' +
        'Delete old runs or checkpoints (or keep fewer checkpoints per run), then try again.',
    );
    expect((quota.cause as Error).name).toBe('QuotaExceededError');
    vi.restoreAllMocks();
    expect(await db.checkpoints.count()).toBe(0);
    expect(await db.checkpointFiles.count()).toBe(0);
  });

  it('works without navigator.storage (and maps bulk writes too)', async () => {
    vi.stubGlobal('navigator', undefined);
    vi.spyOn(IDBObjectStore.prototype, 'put').mockImplementation(() => {
      throw quotaError();
    });
    const error = await putDataset(
      db,
      {
        id: 'd',
        name: 'big.jsonl',
        format: 'gsm8k',
        split: { evalFraction: 0.1, seed: 1 },
        rejections: { total: 0, byReason: {}, examples: [] },
      },
      [trajectory('d:1', 'p1', 'train'), trajectory('d:2', 'p2', 'eval')],
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QuotaExceededError);
    expect((error as QuotaExceededError).estimate).toBeNull();
    expect((error as Error).message).toMatch(/^Not enough browser storage to save dataset "big\.jsonl" \(\d+ B\)\. Delete old runs/);

    const metricsError = await logMetrics(db, 'r1', 1, { loss: 1 }).catch((e: unknown) => e);
    expect(metricsError).toBeInstanceOf(QuotaExceededError);
    expect((metricsError as Error).message).toContain('save metrics of run "r1"');
  });

  it('maps a quota error raised by a model write', async () => {
    vi.spyOn(IDBObjectStore.prototype, 'put').mockImplementation(() => {
      throw quotaError();
    });
    await expect(putModel(db, { id: 'm', name: 'Big', config: {} }, { 'w.bin': bytes(1500) })).rejects.toThrow(
      /save model "Big" \(1\.5 kB\)/,
    );
  });
});

describe('storage unavailable', () => {
  it('reports a missing IndexedDB clearly', async () => {
    const error = await openPlantuneDb({ name: uniqueDbName(), indexedDB: null }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageUnavailableError);
    expect((error as StorageUnavailableError).reason).toBe('missing');
    expect((error as Error).message).toMatch(/^This browser gives Plantune no IndexedDB.*normal \(not private\) window/);
  });

  it('reports a refused open (private mode, blocked site data) with what to do', async () => {
    // Dexie retries an UnknownError (a Chrome quirk) and warns each time.
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    for (const name of ['SecurityError', 'InvalidStateError', 'UnknownError']) {
      const refusing = {
        open: () => {
          throw new DOMException('The operation is insecure.', name);
        },
      } as unknown as IDBFactory;
      const error = await openPlantuneDb({ name: uniqueDbName(), indexedDB: refusing }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StorageUnavailableError);
      expect((error as StorageUnavailableError).reason).toBe('denied');
      expect((error as Error).message).toContain('private or incognito windows');
      expect((error as Error).message).toContain('The operation is insecure.');
    }
    warn.mockRestore();
  });

  it('reports an upgrade blocked by another tab instead of waiting forever', async () => {
    const name = uniqueDbName();
    // An old connection (version 1 = native 10) that does not close on versionchange.
    const old = await new Promise<IDBDatabase>((resolve, reject) => {
      const request = indexedDB.open(name, 10);
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    const error = await openPlantuneDb({ name }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageUnavailableError);
    expect((error as StorageUnavailableError).reason).toBe('blocked');
    expect((error as Error).message).toContain('Close the other Plantune tabs');
    old.close();
  });

  it('opens a database left at a newer version by a newer Plantune', async () => {
    const name = uniqueDbName();
    const newer = new Dexie(name);
    newer.version(4).stores({ ...SCHEMA_V1, ...SCHEMA_V2, ...SCHEMA_V3, tags: 'id' });
    await newer.table('runs').put({ id: 'r1', name: 'run', mode: 'sft', config: {}, status: 'paused', createdAt: 1, updatedAt: 1 });
    newer.close();

    const db = await openPlantuneDb({ name });
    expect((await getRun(db, 'r1'))?.status).toBe('paused');
    await logMetrics(db, 'r1', 1, { loss: 1 });
    expect(await db.metrics.count()).toBe(1);
    db.close();
  });

  it('reports use of a closed database', async () => {
    const db = await openTestDb();
    db.close({ disableAutoOpen: true });
    const error = await logMetrics(db, 'r1', 1, { loss: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageUnavailableError);
    expect((error as StorageUnavailableError).reason).toBe('closed');
  });

  it('passes other errors through unchanged', async () => {
    const db = await openTestDb();
    await expect(setRunStatus(db, 'ghost', 'running')).rejects.toThrow(/^No run "ghost" in storage$/);
    db.close();
  });
});

describe('formatBytes', () => {
  it('uses decimal units, as browsers show storage', () => {
    expect([0, 999, 1500, 9_000_000, 2e9, 3.2e12].map(formatBytes)).toEqual(['0 B', '999 B', '1.5 kB', '9.0 MB', '2.0 GB', '3.2 TB']);
  });
});
