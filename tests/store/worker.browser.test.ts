import { describe, expect, it } from 'vitest';

describe('store and tokenizer in a Web Worker (real IndexedDB)', () => {
  it('stores, reads back and deletes, and tokenizes from stored files', async () => {
    const worker = new Worker(new URL('./store.worker.ts', import.meta.url), { type: 'module' });
    const text = 'Janet’s ducks lay 16 eggs 🦆\n#### 18';
    const reply = await new Promise<Record<string, unknown>>((resolve, reject) => {
      worker.onmessage = (ev) => resolve(ev.data as Record<string, unknown>);
      worker.onerror = (ev) => reject(new Error(ev.message));
      worker.postMessage({ dbName: `plantune-worker-test-${Date.now()}`, text });
    });
    worker.terminate();
    expect(reply.error).toBeUndefined();
    expect(reply).toEqual({
      inWorker: true,
      weightsIntact: true,
      roundtrip: text,
      checkpointsKept: 1,
      latestStep: 2,
      series: [
        { step: 1, value: 1 },
        { step: 2, value: 0.5 },
      ],
      leftAfterDelete: 0,
    });
  });
});
