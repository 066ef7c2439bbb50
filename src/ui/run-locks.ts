// Which runs are training in some tab of this page. A tab holds a Web Lock named after each run its
// worker trains, for as long as it trains; the browser drops the lock when the tab closes. So on load,
// a run stored as "running" with no lock held was interrupted, and one with a lock trains in another tab.

const PREFIX = 'plantune-run:';

/** Holds the lock of `runId` until the returned function is called. */
export function holdRunLock(runId: string): () => void {
  let release = (): void => undefined;
  const held = new Promise<void>((resolve) => (release = resolve));
  void navigator.locks?.request(PREFIX + runId, () => held);
  return release;
}

/** Ids of the runs whose lock some tab holds (none where the browser has no Web Locks). */
export async function runsTrainingInTabs(): Promise<Set<string>> {
  const state = await navigator.locks?.query();
  const names = (state?.held ?? []).map((l) => l.name ?? '');
  return new Set(names.filter((n) => n.startsWith(PREFIX)).map((n) => n.slice(PREFIX.length)));
}
