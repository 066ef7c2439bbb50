// Shared by the store tests: unique database names and small records.
import 'fake-indexeddb/auto';
import type { Trajectory } from '../../src/data/trajectory';
import type { Split } from '../../src/store/datasets';
import { openPlantuneDb, type PlantuneDb } from '../../src/store/db';

let opened = 0;

export function uniqueDbName(): string {
  return `plantune-test-${process.pid}-${opened++}`;
}

export function openTestDb(): Promise<PlantuneDb> {
  return openPlantuneDb({ name: uniqueDbName() });
}

export function trajectory(id: string, problemId: string, split: Split): Trajectory & { split: Split } {
  return {
    id,
    problemId,
    question: `Question ${problemId}?`,
    plan: [{ subQuestion: 'How many?', subAnswer: '3 + 4 = 7' }],
    solution: '3 + 4 = <<3+4=7>>7\n#### 7',
    finalAnswer: { text: '7', value: 7 },
    source: 'gsm8k-socratic',
    rewards: { answerCorrectness: 1, usefulness: [0.5] },
    meta: { line: 3 },
    split,
  };
}

export function bytes(n: number, seed = 1): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 31 + seed * 7) & 0xff;
  return out;
}

export async function blobBytes(blob: Blob | undefined): Promise<Uint8Array> {
  if (!blob) throw new Error('expected a Blob');
  return new Uint8Array(await blob.arrayBuffer());
}
