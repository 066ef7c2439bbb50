// What the page's teacher jobs keep besides the job store of src/teacher (its `plantune-teacher`
// database: job records and per-question results): how to reach the teacher again, the job's
// question list (dropped files are gone after a reload), and, only when the user asked, the API key.
// A database of its own, `plantune-teacher-inputs`, with three tables:
//   jobs       by id:    name, endpoint without the key, where the questions came from, saved datasets
//   questions  by jobId: the questions (index, text, gold, problem id) and where each came from
//   keys       by jobId: the API key, written only when the user ticked "remember in this browser";
//                        read only to build the teacher, never listed with anything else.
import Dexie, { type DexieOptions, type Table } from 'dexie';
import type { TeacherQuestion } from '../teacher/questions';
import type { ModelRef } from './model-types';

export const TEACHER_INPUTS_DB_NAME = 'plantune-teacher-inputs';

/** The endpoint as stored: never the key. */
export type StoredEndpoint =
  | { kind: 'http'; baseUrl: string; model: string; timeoutMs?: number; maxRetries?: number }
  | { kind: 'local'; model: ModelRef; name: string };

/** Where one question came from: a file's line, or a dataset's row. Recorded in each trajectory's meta. */
export type QuestionOrigin = { file: string; line: number } | { datasetId: string; rowId: string };

export interface PageJob {
  id: string;
  name: string;
  endpoint: StoredEndpoint;
  /** The job was started with an API key (needed again on resume unless remembered). */
  hasKey: boolean;
  source: string;
  savedDatasets: { id: string; name: string }[];
}

export interface JobQuestions {
  jobId: string;
  questions: TeacherQuestion[];
  origins: QuestionOrigin[];
}

interface StoredKey {
  jobId: string;
  apiKey: string;
}

export class TeacherInputsDb extends Dexie {
  jobs!: Table<PageJob, string>;
  questions!: Table<JobQuestions, string>;
  keys!: Table<StoredKey, string>;

  /** `options` can pass `indexedDB` / `IDBKeyRange` (tests use fake-indexeddb). */
  constructor(name: string = TEACHER_INPUTS_DB_NAME, options?: DexieOptions) {
    super(name, options);
    this.version(1).stores({ jobs: 'id', questions: 'jobId', keys: 'jobId' });
  }

  async addJob(job: PageJob, questions: JobQuestions): Promise<void> {
    await this.transaction('rw', this.jobs, this.questions, async () => {
      await this.questions.put(questions);
      await this.jobs.put(job);
    });
  }

  async getKey(jobId: string): Promise<string | undefined> {
    return (await this.keys.get(jobId))?.apiKey;
  }

  async rememberKey(jobId: string, apiKey: string): Promise<void> {
    await this.keys.put({ jobId, apiKey });
  }

  async hasStoredKey(jobId: string): Promise<boolean> {
    return (await this.keys.where('jobId').equals(jobId).count()) > 0;
  }

  async forgetKey(jobId: string): Promise<void> {
    await this.keys.delete(jobId);
  }

  async removeJob(jobId: string): Promise<void> {
    await this.transaction('rw', this.jobs, this.questions, this.keys, async () => {
      await this.jobs.delete(jobId);
      await this.questions.delete(jobId);
      await this.keys.delete(jobId);
    });
  }
}
