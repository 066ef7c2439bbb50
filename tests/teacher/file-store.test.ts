import { mkdtempSync, readFileSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Trajectory } from '../../src/data/trajectory';
import { createJob, jobSettings } from '../../src/teacher/job';
import { FileJobStore, decodeRanges, encodeRanges } from '../../src/teacher/node/file-job-store';
import { makeQuestion, questionHash } from '../../src/teacher/questions';
import type { QuestionResult } from '../../src/teacher/store';

const dir = mkdtempSync(join(tmpdir(), 'plantune-filestore-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const job = createJob({ id: 'job-f', settings: jobSettings({ method: 'subq', teacher: { model: 'm', endpoint: 'e' }, sampling: { n: 2 } }), total: 5 });

function result(index: number, rows = 2): QuestionResult {
  const q = makeQuestion(index, `Question ${index}?`, { text: '1', value: 1 });
  const trajectories: Trajectory[] = Array.from({ length: rows }, (_, k) => ({
    id: `job-f:${index}:${k}`,
    problemId: q.problemId,
    question: q.question,
    plan: [{ subQuestion: 'a' }],
    solution: 's',
    finalAnswer: { text: '1', value: 1 },
    source: 'plantune',
    rewards: { answerCorrectness: k === 0 ? 1 : 0 },
    meta: { jobId: 'job-f', questionIndex: index, row: k, rows, usage: { promptTokens: 10, completionTokens: 5, requests: 2 } },
  }));
  return { jobId: 'job-f', questionIndex: index, questionHash: questionHash(q), status: 'ok', trajectories, correct: 1, usage: { promptTokens: 10, completionTokens: 5, requests: 2 }, finishedAt: new Date().toISOString() };
}

describe('FileJobStore', () => {
  it('encodes done questions as ranges', () => {
    expect(encodeRanges([5, 0, 1, 2, 7, 8, 3])).toBe('0-3,5,7-8');
    expect([...decodeRanges('0-3,5,7-8')]).toEqual([0, 1, 2, 3, 5, 7, 8]);
    expect(encodeRanges([])).toBe('');
  });

  it('appends rows, records failures, and reads both back', async () => {
    const out = join(dir, 'a.jsonl');
    const store = await FileJobStore.open(out);
    expect(store.job).toBeUndefined();
    await store.putJob(job);
    await store.putResult(job, result(1));
    await store.putResult(job, result(0));
    const failed: QuestionResult = { ...result(2), status: 'failed', trajectories: [], correct: 0, failure: { kind: 'truncated', message: 'cut', retryable: false } };
    await store.putResult(job, failed);
    const reopened = await FileJobStore.open(out);
    expect(reopened.job!.id).toBe('job-f');
    const results = await reopened.getResults('job-f');
    expect(results.map((r) => [r.questionIndex, r.status, r.trajectories.length])).toEqual([[0, 'ok', 2], [1, 'ok', 2], [2, 'failed', 0]]);
    expect(results[2].failure).toEqual({ kind: 'truncated', message: 'cut', retryable: false });
    await reopened.sortOutput();
    expect(readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l).id)).toEqual(['job-f:0:0', 'job-f:0:1', 'job-f:1:0', 'job-f:1:1']);
    expect(JSON.parse(readFileSync(`${out}.job.json`, 'utf8'))).toMatchObject({ format: 'plantune-teacher-job', ok: '0-1' });
  });

  it('after a crash between the two writes: adopts complete rows, drops incomplete ones and a half-written line', async () => {
    const out = join(dir, 'b.jsonl');
    const store = await FileJobStore.open(out);
    await store.putJob(job);
    await store.putResult(job, result(0));
    // The process died after appending question 3's rows but before the sidecar said so ...
    appendFileSync(out, result(3).trajectories.map((t) => JSON.stringify(t) + '\n').join(''));
    // ... and question 4 got one of its two rows out, plus half a line.
    const four = result(4).trajectories.map((t) => JSON.stringify(t));
    appendFileSync(out, four[0] + '\n' + four[1].slice(0, 40));
    const reopened = await FileJobStore.open(out);
    expect((await reopened.getResults('job-f')).map((r) => r.questionIndex)).toEqual([0, 3]);
    expect(reopened.job!.counters.usage).toEqual({ promptTokens: 10, completionTokens: 5, requests: 2 });
    const lines = readFileSync(out, 'utf8').split('\n').filter(Boolean);
    expect(lines.map((l) => JSON.parse(l).meta.questionIndex)).toEqual([0, 0, 3, 3]);
    expect(JSON.parse(readFileSync(`${out}.job.json`, 'utf8')).ok).toBe('0,3');
  });

  it('refuses a sidecar that is not its own and an output written by someone else', async () => {
    const out = join(dir, 'c.jsonl');
    writeFileSync(`${out}.job.json`, '{"hello": 1}');
    await expect(FileJobStore.open(out)).rejects.toThrow(/not a Plantune teacher job file/);
    const out2 = join(dir, 'd.jsonl');
    const store = await FileJobStore.open(out2);
    await store.putJob(job);
    writeFileSync(out2, '{"question": "x"}\n');
    await expect(FileJobStore.open(out2)).rejects.toThrow(/line 1 is not a trajectory of job job-f/);
  });
});
