// Exercises the store and the tokenizer inside a dedicated Web Worker, on the browser's
// real IndexedDB: the trainer runs there.
import Dexie from 'dexie';
import { byteLevelTokenizerConfig, byteLevelTokenizerJson } from '../../src/data/tokenizer/byte-level';
import { loadTokenizer } from '../../src/data/tokenizer/load';
import { latestCheckpoint, listCheckpoints, saveCheckpoint } from '../../src/store/checkpoints';
import { openPlantuneDb } from '../../src/store/db';
import { logMetrics, metricSeries } from '../../src/store/metrics';
import { getModelFile, putModel } from '../../src/store/models';
import { deleteRun, putRun } from '../../src/store/runs';

self.onmessage = async (ev: MessageEvent<{ dbName: string; text: string }>) => {
  const { dbName, text } = ev.data;
  try {
    const db = await openPlantuneDb({ name: dbName });
    const weights = Uint8Array.from({ length: 1000 }, (_, i) => (i * 13) & 0xff);
    await putModel(
      db,
      { id: 'tiny', name: 'Tiny', config: { vocab_size: 260 } },
      {
        'model.safetensors': new Blob([weights]),
        'tokenizer.json': new Blob([JSON.stringify(byteLevelTokenizerJson())]),
        'tokenizer_config.json': new Blob([JSON.stringify(byteLevelTokenizerConfig(256))]),
      },
      { chunkBytes: 300 },
    );
    const stored = new Uint8Array(await (await getModelFile(db, 'tiny', 'model.safetensors'))!.arrayBuffer());
    const tokenizer = await loadTokenizer(
      (await getModelFile(db, 'tiny', 'tokenizer.json'))!,
      (await getModelFile(db, 'tiny', 'tokenizer_config.json'))!,
    );

    await putRun(db, { id: 'r1', name: 'sft', mode: 'sft', config: {} });
    for (const step of [1, 2]) {
      await saveCheckpoint(db, { runId: 'r1', step, rng: Uint32Array.of(step), dataOrder: [], schedule: {} }, { params: weights }, { keepLast: 1, chunkBytes: 300 });
      await logMetrics(db, 'r1', step, { loss: 1 / step });
    }
    const checkpointsKept = (await listCheckpoints(db, 'r1')).length;
    const latestStep = (await latestCheckpoint(db, 'r1'))?.step;
    const series = await metricSeries(db, 'r1', 'loss');
    await deleteRun(db, 'r1');
    const leftAfterDelete = (await db.checkpointFiles.count()) + (await db.metrics.count());
    db.close();
    await Dexie.delete(dbName);

    self.postMessage({
      inWorker: typeof window === 'undefined',
      weightsIntact: stored.length === weights.length && stored.every((b, i) => b === weights[i]),
      roundtrip: tokenizer.decode(tokenizer.encode(text, { addBos: true }), { skipSpecial: true }),
      checkpointsKept,
      latestStep,
      series,
      leftAfterDelete,
    });
  } catch (err) {
    self.postMessage({ error: String(err) });
  }
};
