// Teacher jobs in IndexedDB: a small database of its own, `plantune-teacher`, so the teacher's state
// never touches the schema of the main store. Tables: jobs (by id) and results (by [jobId+questionIndex]).

import Dexie, { type DexieOptions, type Table } from 'dexie';
import type { JobRecord, JobStore, QuestionResult } from './store';

export const TEACHER_DB_NAME = 'plantune-teacher';

export class TeacherDatabase extends Dexie {
  jobs!: Table<JobRecord, string>;
  results!: Table<QuestionResult, [string, number]>;

  /** `options` can pass `indexedDB` / `IDBKeyRange` (tests use fake-indexeddb). */
  constructor(name: string = TEACHER_DB_NAME, options?: DexieOptions) {
    super(name, options);
    this.version(1).stores({
      jobs: 'id, updatedAt, status',
      results: '[jobId+questionIndex], jobId',
    });
  }
}

export class DexieJobStore implements JobStore {
  readonly db: TeacherDatabase;

  constructor(db: TeacherDatabase = new TeacherDatabase()) {
    this.db = db;
  }

  getJob(id: string): Promise<JobRecord | undefined> {
    return this.db.jobs.get(id);
  }

  async listJobs(): Promise<JobRecord[]> {
    return (await this.db.jobs.orderBy('updatedAt').reverse().toArray());
  }

  async putJob(job: JobRecord): Promise<void> {
    await this.db.jobs.put(job);
  }

  async putResult(job: JobRecord, result: QuestionResult): Promise<void> {
    await this.db.transaction('rw', this.db.jobs, this.db.results, async () => {
      await this.db.results.put(result);
      await this.db.jobs.put(job);
    });
  }

  getResults(jobId: string): Promise<QuestionResult[]> {
    return this.db.results.where('jobId').equals(jobId).sortBy('questionIndex');
  }

  async deleteJob(id: string): Promise<void> {
    await this.db.transaction('rw', this.db.jobs, this.db.results, async () => {
      await this.db.results.where('jobId').equals(id).delete();
      await this.db.jobs.delete(id);
    });
  }
}
