// One GPU user at a time: a run does not start while answers are being generated (and touches
// neither the database nor the GPU when refused); it starts once the generation is over.
import { describe, expect, it } from 'vitest';
import { createRunApi } from '../../src/worker/run-api';
import type { RunConfig } from '../../src/worker/run-types';

describe('startRun while the GPU is busy', () => {
  it('is refused with the reason, before opening the database; accepted once the GPU is free', async () => {
    let busy: string | null = 'answers are being generated on the GPU';
    let opened = 0;
    const api = createRunApi({
      openDb: () => {
        opened++;
        return Promise.reject(new Error('no database in this test'));
      },
      engine: () => Promise.reject(new Error('no GPU in this test')),
      gpuBusy: () => busy,
    });
    const config = { mode: 'sft', data: { synthetic: 10 }, steps: 1, batch: 1, lr: 1e-3, seq: 64, evalCount: 0, checkpointEvery: 1 } as RunConfig;
    await expect(api.startRun(config, () => undefined)).rejects.toThrow('answers are being generated on the GPU: start the run when it is done');
    expect(opened).toBe(0);
    busy = null;
    await expect(api.startRun(config, () => undefined)).rejects.toThrow('no database in this test'); // past the check
    expect(opened).toBe(1);
  });
});
