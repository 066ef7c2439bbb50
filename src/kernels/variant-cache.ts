// Kernel variant choices per adapter. A kernel family with several algorithms (matmul) asks here,
// synchronously, which one to run for a shape class: a forced override (tests, benchmarks), else
// the winner of an earlier timed trial, else its own heuristic. Trials run at startup (never inside
// a step); their winners are kept in memory and, in a browser, in IndexedDB (database
// `plantune-tuning`, store `variants`, key "adapter|kernel|class") so the next visit skips them.
import type { Engine } from '../gpu/engine';

const DB_NAME = 'plantune-tuning';
const STORE = 'variants';

interface Choice {
  adapter: string;
  kernel: string;
  cls: string;
  variant: string;
  /** Median milliseconds of the winner in its trial. */
  ms: number;
}

const overrides = new Map<string, string>();
const remembered = new Map<string, Choice>();
const loadedAdapters = new Set<string>();

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const keyOf = (adapter: string, kernel: string, cls: string): string => `${adapter}|${kernel}|${cls}`;

/** Force `variant` for every launch of `kernel` (null removes the override). */
export function setVariantOverride(kernel: string, variant: string | null): void {
  if (variant === null) overrides.delete(kernel);
  else overrides.set(kernel, variant);
}

export function variantOverride(kernel: string): string | undefined {
  return overrides.get(kernel);
}

/** The variant a trial chose for this adapter, kernel and shape class, if any (synchronous: memory only). */
export function rememberedVariant(e: Engine, kernel: string, cls: string): string | undefined {
  return remembered.get(keyOf(e.gpu.adapter.name, kernel, cls))?.variant;
}

/** Drops the in-memory choices (IndexedDB keeps them; `loadRememberedVariants` brings them back). */
export function forgetRememberedVariants(): void {
  remembered.clear();
  loadedAdapters.clear();
}

function openDb(): Promise<IDBDatabase> | null {
  if (typeof indexedDB === 'undefined') return null;
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB_NAME, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

function done(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error);
  });
}

/** Runs `use` on the tuning database; without IndexedDB (Node) or when it fails (private mode, quota) choices stay in memory only. */
async function withDb(use: (db: IDBDatabase) => Promise<void>): Promise<void> {
  const pending = openDb();
  if (!pending) return;
  try {
    const db = await pending;
    try {
      await use(db);
    } finally {
      db.close();
    }
  } catch (err) {
    console.warn(`variant choices are kept in memory only: IndexedDB ${DB_NAME} failed (${err instanceof Error ? err.message : String(err)})`);
  }
}

/** Loads the choices stored for this adapter into memory (once per adapter); returns how many are known. */
export async function loadRememberedVariants(e: Engine): Promise<number> {
  const adapter = e.gpu.adapter.name;
  if (!loadedAdapters.has(adapter)) {
    await withDb(async (db) => {
      const tx = db.transaction(STORE, 'readonly');
      const req = tx.objectStore(STORE).getAll();
      await done(tx);
      for (const c of req.result as Choice[]) if (c.adapter === adapter) remembered.set(keyOf(c.adapter, c.kernel, c.cls), c);
    });
    loadedAdapters.add(adapter);
  }
  return [...remembered.values()].filter((c) => c.adapter === adapter).length;
}

function persist(c: Choice): Promise<void> {
  return withDb(async (db) => {
    const tx = db.transaction(STORE, 'readwrite');
    tx.objectStore(STORE).put(c, keyOf(c.adapter, c.kernel, c.cls));
    await done(tx);
  });
}

export interface Candidate {
  variant: string;
  /** Records one launch (the caller's tensors); `submit` and the wait are done here. */
  record: () => Promise<void>;
}

export interface TrialResult {
  variant: string;
  ms: number;
}

/**
 * Times each candidate (one warm-up launch that also compiles, then `samples` launches, each
 * submitted and awaited alone), remembers the fastest for (adapter, kernel, cls) and persists it.
 * Returns every candidate's median, fastest first.
 */
export async function runTrial(e: Engine, kernel: string, cls: string, candidates: readonly Candidate[], samples = 3): Promise<TrialResult[]> {
  if (!candidates.length) throw new Error(`${kernel}: a trial needs at least one candidate`);
  const results: TrialResult[] = [];
  for (const c of candidates) {
    const ms: number[] = [];
    for (let s = 0; s <= samples; s++) {
      await c.record();
      const t0 = performance.now();
      e.rec.submit();
      await e.rec.done();
      if (s > 0) ms.push(performance.now() - t0);
    }
    results.push({ variant: c.variant, ms: median(ms) });
  }
  results.sort((a, b) => a.ms - b.ms);
  const choice: Choice = { adapter: e.gpu.adapter.name, kernel, cls, variant: results[0].variant, ms: results[0].ms };
  remembered.set(keyOf(choice.adapter, kernel, cls), choice);
  await persist(choice);
  return results;
}
