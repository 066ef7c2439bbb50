// Node only (the CLI): a teacher job kept in files. The trajectories go straight into the output JSONL
// (appended as each question finishes); the job's record, which questions are done and why any
// failed go into a JSON sidecar `<out>.job.json`, rewritten atomically (write + rename) after every
// question. An interrupted run therefore resumes without asking the teacher again about a finished
// question. If the process dies between the two writes, `open` finds the question's complete rows in
// the output and counts it as done; a half-written last line is dropped.

import { promises as fs } from 'node:fs';
import type { Trajectory } from '../../data/trajectory';
import { questionHash } from '../questions';
import type { JobRecord, JobStore, QuestionFailure, QuestionResult } from '../store';
import { type TokenUsage, addUsage, zeroUsage } from '../types';

const FORMAT = 'plantune-teacher-job';

interface FailureEntry {
  failure: QuestionFailure;
  usage: TokenUsage;
  questionHash: string;
  finishedAt: string;
}

interface SidecarState {
  format: typeof FORMAT;
  version: 1;
  job: JobRecord;
  /** Questions done with trajectories in the output, as ranges: "0-41,43,45-50". */
  ok: string;
  /** Questions that failed, by index. */
  failures: Record<string, FailureEntry>;
}

export function encodeRanges(indices: Iterable<number>): string {
  const sorted = [...new Set(indices)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    parts.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

export function decodeRanges(text: string): Set<number> {
  const out = new Set<number>();
  for (const part of text.split(',')) {
    if (!part.trim()) continue;
    const m = /^\s*(\d+)(?:-(\d+))?\s*$/.exec(part);
    if (!m) throw new Error(`bad range "${part}"`);
    const a = Number(m[1]);
    const b = m[2] !== undefined ? Number(m[2]) : a;
    for (let i = a; i <= b; i++) out.add(i);
  }
  return out;
}

interface Row {
  t: Trajectory;
  line: string;
  index: number;
  row: number;
  rows: number;
}

function rowMeta(t: Trajectory): { jobId?: unknown; questionIndex?: unknown; row?: unknown; rows?: unknown; usage?: unknown } {
  return (t.meta ?? {}) as Record<string, unknown>;
}

export class FileJobStore implements JobStore {
  readonly outPath: string;
  readonly statePath: string;
  private state: SidecarState | undefined;
  private ok = new Set<number>();

  private constructor(outPath: string) {
    this.outPath = outPath;
    this.statePath = `${outPath}.job.json`;
  }

  static sidecarPath(outPath: string): string {
    return `${outPath}.job.json`;
  }

  /**
   * Opens the files of the job writing to `outPath`: reads the sidecar when there is one and
   * reconciles it with the output (see the file comment). `job` is then the saved job, if any.
   */
  static async open(outPath: string): Promise<FileJobStore> {
    const store = new FileJobStore(outPath);
    let text: string | undefined;
    try {
      text = await fs.readFile(store.statePath, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    if (text !== undefined) {
      let state: SidecarState;
      try {
        state = JSON.parse(text) as SidecarState;
      } catch {
        throw new Error(`${store.statePath} is not valid JSON: delete it (and ${outPath}) to start over`);
      }
      if (state?.format !== FORMAT || state.version !== 1 || !state.job?.id) {
        throw new Error(`${store.statePath} is not a Plantune teacher job file`);
      }
      store.state = state;
      store.ok = decodeRanges(state.ok);
      await store.reconcile();
    }
    return store;
  }

  /** The job saved in the sidecar, if any. */
  get job(): JobRecord | undefined {
    return this.state && structuredClone(this.state.job);
  }

  async getJob(id: string): Promise<JobRecord | undefined> {
    return this.state?.job.id === id ? structuredClone(this.state.job) : undefined;
  }

  async listJobs(): Promise<JobRecord[]> {
    return this.state ? [structuredClone(this.state.job)] : [];
  }

  async putJob(job: JobRecord): Promise<void> {
    if (this.state && this.state.job.id !== job.id) throw new Error(`${this.statePath} belongs to job ${this.state.job.id}, not ${job.id}`);
    this.state ??= { format: FORMAT, version: 1, job, ok: '', failures: {} };
    this.state.job = structuredClone(job);
    await this.writeState();
  }

  async putResult(job: JobRecord, result: QuestionResult): Promise<void> {
    if (!this.state) await this.putJob(job);
    const state = this.state!;
    const key = String(result.questionIndex);
    if (result.status === 'ok') {
      if (result.trajectories.length > 0) {
        await fs.appendFile(this.outPath, result.trajectories.map((t) => JSON.stringify(t) + '\n').join(''));
      }
      this.ok.add(result.questionIndex);
      delete state.failures[key];
    } else {
      state.failures[key] = {
        failure: result.failure ?? { kind: 'malformed', message: 'failed', retryable: false },
        usage: result.usage,
        questionHash: result.questionHash,
        finishedAt: result.finishedAt,
      };
    }
    state.job = structuredClone(job);
    await this.writeState();
  }

  async getResults(jobId: string): Promise<QuestionResult[]> {
    if (!this.state || this.state.job.id !== jobId) return [];
    const results = new Map<number, QuestionResult>();
    for (const group of (await this.readGroups()).values()) {
      const first = group[0];
      if (!this.ok.has(first.index)) continue;
      results.set(first.index, okResult(jobId, group));
    }
    for (const [key, f] of Object.entries(this.state.failures)) {
      const index = Number(key);
      if (this.ok.has(index)) continue;
      results.set(index, {
        jobId,
        questionIndex: index,
        questionHash: f.questionHash,
        status: 'failed',
        trajectories: [],
        correct: 0,
        usage: f.usage,
        failure: f.failure,
        finishedAt: f.finishedAt,
      });
    }
    return [...results.values()].sort((a, b) => a.questionIndex - b.questionIndex);
  }

  async deleteJob(id: string): Promise<void> {
    if (this.state?.job.id !== id) return;
    await fs.rm(this.statePath, { force: true });
    await fs.rm(this.outPath, { force: true });
    this.state = undefined;
    this.ok.clear();
  }

  /** Rewrites the output in question order (rows are appended in the order questions finish). */
  async sortOutput(): Promise<void> {
    const rows = await this.readRows();
    rows.sort((a, b) => a.index - b.index || a.row - b.row);
    await writeAtomic(this.outPath, rows.map((r) => r.line + '\n').join(''));
  }

  /** Rows of the output file that belong to this job; throws on rows of another job. */
  private async readRows(): Promise<Row[]> {
    let text: string;
    try {
      text = await fs.readFile(this.outPath, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
    const rows: Row[] = [];
    const lines = text.split('\n');
    lines.forEach((line, i) => {
      if (!line.trim()) return;
      let t: Trajectory;
      try {
        t = JSON.parse(line) as Trajectory;
      } catch {
        if (i === lines.length - 1) return; // a half-written last line: dropped by reconcile
        throw new Error(`${this.outPath} line ${i + 1} is not JSON: it was not written by this job`);
      }
      const m = rowMeta(t);
      if (m.jobId !== this.state?.job.id || typeof m.questionIndex !== 'number') {
        throw new Error(`${this.outPath} line ${i + 1} is not a trajectory of job ${this.state?.job.id}`);
      }
      rows.push({ t, line, index: m.questionIndex, row: typeof m.row === 'number' ? m.row : 0, rows: typeof m.rows === 'number' ? m.rows : 1 });
    });
    return rows;
  }

  private async readGroups(): Promise<Map<number, Row[]>> {
    const groups = new Map<number, Row[]>();
    for (const r of await this.readRows()) {
      const g = groups.get(r.index);
      if (g) g.push(r);
      else groups.set(r.index, [r]);
    }
    return groups;
  }

  /** Makes the output and the sidecar agree after a crash between their writes. */
  private async reconcile(): Promise<void> {
    const state = this.state!;
    const groups = await this.readGroups();
    let rewrite = false;
    let adopted = false;
    const keep: Row[] = [];
    for (const [index, group] of groups) {
      const complete = group.length === group[0].rows && new Set(group.map((r) => r.row)).size === group.length;
      if (this.ok.has(index) && complete) {
        keep.push(...group);
      } else if (!this.ok.has(index) && complete) {
        // Written to the output, but the process died before the sidecar said so.
        this.ok.add(index);
        delete state.failures[String(index)];
        const usage = rowMeta(group[0].t).usage as TokenUsage | undefined;
        addUsage(state.job.counters.usage, usage ? { ...zeroUsage(), ...usage } : undefined);
        keep.push(...group);
        adopted = true;
      } else {
        // Incomplete rows of a question: drop them; the question is asked again.
        this.ok.delete(index);
        rewrite = true;
      }
    }
    for (const index of [...this.ok]) {
      if (!groups.has(index)) {
        this.ok.delete(index); // recorded as done, but its rows are gone: ask again
        adopted = true;
      }
    }
    const text = await fs.readFile(this.outPath, 'utf8').catch(() => '');
    if (text && !text.endsWith('\n')) rewrite = true;
    if (rewrite) {
      keep.sort((a, b) => a.index - b.index || a.row - b.row);
      await writeAtomic(this.outPath, keep.map((r) => r.line + '\n').join(''));
    }
    if (rewrite || adopted) await this.writeState();
  }

  private async writeState(): Promise<void> {
    const state = this.state!;
    state.ok = encodeRanges(this.ok);
    await writeAtomic(this.statePath, JSON.stringify(state, null, 1) + '\n');
  }
}

function okResult(jobId: string, group: Row[]): QuestionResult {
  const sorted = [...group].sort((a, b) => a.row - b.row);
  const t0 = sorted[0].t;
  const usage = rowMeta(t0).usage as TokenUsage | undefined;
  const meta = (t0.meta ?? {}) as { createdAt?: unknown };
  return {
    jobId,
    questionIndex: sorted[0].index,
    questionHash: questionHash(t0),
    status: 'ok',
    trajectories: sorted.map((r) => r.t),
    correct: sorted.filter((r) => r.t.rewards?.answerCorrectness === 1).length,
    usage: usage ? { ...zeroUsage(), ...usage } : zeroUsage(),
    finishedAt: typeof meta.createdAt === 'string' ? meta.createdAt : new Date(0).toISOString(),
  };
}

async function writeAtomic(path: string, text: string): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await fs.writeFile(tmp, text);
  await fs.rename(tmp, path);
}
