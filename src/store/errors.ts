// The two storage failures a user can act on, as typed errors with messages that say
// what to do. Everything else (bugs, constraint violations) is passed through unchanged.
import Dexie from 'dexie';

export type UnavailableReason = 'missing' | 'denied' | 'blocked' | 'closed';

const UNAVAILABLE_MESSAGES: Record<UnavailableReason, string> = {
  missing:
    'This browser gives Plantune no IndexedDB, so datasets, models and runs cannot be saved. ' +
    'Use a recent Chrome, Edge, Firefox or Safari, in a normal (not private) window.',
  denied:
    'The browser refused to open Plantune\'s storage (IndexedDB). This happens in private or incognito ' +
    'windows, when site data is blocked for this page, or when the disk or browser profile has a problem. ' +
    'Open Plantune in a normal window and allow site data for it, then reload.',
  blocked:
    'Another tab with an older version of Plantune keeps its storage open, so it cannot be upgraded. ' +
    'Close the other Plantune tabs, then reload this one.',
  closed:
    'Plantune\'s storage was closed (another tab upgraded it, or the browser closed it). Reload the page.',
};

export class StorageUnavailableError extends Error {
  override readonly name = 'StorageUnavailableError';

  constructor(
    readonly reason: UnavailableReason,
    cause?: unknown,
  ) {
    const detail = describe(cause);
    super(UNAVAILABLE_MESSAGES[reason] + (detail ? ` (browser said: ${detail})` : ''), { cause });
  }
}

export interface StorageEstimateNumbers {
  usage: number;
  quota: number;
}

export class QuotaExceededError extends Error {
  override readonly name = 'QuotaExceededError';

  constructor(
    /** What was being saved, e.g. 'checkpoint at step 400 of run "r1"'. */
    readonly what: string,
    /** Bytes being written, when known. */
    readonly bytes: number | null,
    /** navigator.storage.estimate(), when the browser offers it. */
    readonly estimate: StorageEstimateNumbers | null,
    cause?: unknown,
  ) {
    const size = bytes === null ? '' : ` (${formatBytes(bytes)})`;
    const usage = estimate
      ? ` This site already uses ${formatBytes(estimate.usage)} of the ${formatBytes(estimate.quota)} the browser allows it.`
      : '';
    super(
      `Not enough browser storage to save ${what}${size}.${usage} ` +
        'Delete old runs or checkpoints (or keep fewer checkpoints per run), then try again.',
      { cause },
    );
  }
}

/** "12.3 MB": decimal units, as browsers show storage. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/**
 * Runs a storage operation and turns the failures a user can act on into the typed
 * errors above. `bytes` is only evaluated when the quota is exceeded.
 */
export async function guardStorage<T>(what: string, op: () => Promise<T>, bytes?: () => number): Promise<T> {
  try {
    return await op();
  } catch (error) {
    throw await toStorageError(error, what, bytes);
  }
}

/** Maps Dexie / IndexedDB errors (including ones nested in Dexie's `inner` or bulk `failures`). */
export async function toStorageError(error: unknown, what: string, bytes?: () => number): Promise<unknown> {
  if (error instanceof StorageUnavailableError || error instanceof QuotaExceededError) return error;
  const names = errorNames(error);
  const { QuotaExceeded, MissingAPI, DatabaseClosed, OpenFailed } = Dexie.errnames;
  if (names.has(QuotaExceeded)) {
    return new QuotaExceededError(what, bytes ? bytes() : null, await storageEstimate(), error);
  }
  if (names.has(MissingAPI)) return new StorageUnavailableError('missing', error);
  if (names.has(DatabaseClosed)) return new StorageUnavailableError('closed', error);
  if (names.has(OpenFailed) || names.has('SecurityError')) return new StorageUnavailableError('denied', error);
  return error;
}

/** Failures of opening the database: all mean storage is unavailable, whatever the cause. */
export async function toOpenError(error: unknown): Promise<StorageUnavailableError | QuotaExceededError> {
  const mapped = await toStorageError(error, 'the database');
  if (mapped instanceof StorageUnavailableError || mapped instanceof QuotaExceededError) return mapped;
  return new StorageUnavailableError('denied', error);
}

async function storageEstimate(): Promise<StorageEstimateNumbers | null> {
  try {
    const estimate = await globalThis.navigator?.storage?.estimate?.();
    if (estimate?.usage === undefined || estimate.quota === undefined) return null;
    return { usage: estimate.usage, quota: estimate.quota };
  } catch {
    return null;
  }
}

function errorNames(error: unknown, names = new Set<string>(), depth = 0): Set<string> {
  if (typeof error !== 'object' || error === null || depth > 4) return names;
  const { name, inner, failures } = error as { name?: unknown; inner?: unknown; failures?: unknown };
  if (typeof name === 'string') names.add(name);
  errorNames(inner, names, depth + 1);
  if (Array.isArray(failures)) for (const failure of failures) errorNames(failure, names, depth + 1);
  return names;
}

function describe(cause: unknown): string {
  if (cause instanceof Error || (typeof cause === 'object' && cause !== null && 'message' in cause)) {
    const { name, message } = cause as { name?: string; message?: string };
    return [name, message].filter(Boolean).join(': ');
  }
  return '';
}
