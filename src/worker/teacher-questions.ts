// The questions of a teacher job, from dropped JSONL files (read as src/teacher/questions.ts reads
// GSM8K's train.jsonl) or from a stored dataset's rows; one question per problem, numbered 0..N-1
// in file (or row) order, each with where it came from. Rows that cannot be used are listed with
// their file, line and reason; the others are kept.
import type { Trajectory } from '../data/trajectory';
import { type Split, getDataset, getTrajectories } from '../store/datasets';
import type { PlantuneDb } from '../store/db';
import { type TeacherQuestion, parseQuestionsJsonl } from '../teacher/questions';
import type { QuestionOrigin } from './teacher-store';
import type { QuestionSource, SkippedQuestion } from './teacher-types';

export interface JobInput {
  questions: TeacherQuestion[];
  origins: QuestionOrigin[];
  skipped: SkippedQuestion[];
  /** A few words on where the questions came from. */
  description: string;
}

/** Collects questions in order, one per problem: a second row about a problem already taken is skipped. */
class QuestionList {
  readonly questions: TeacherQuestion[] = [];
  readonly origins: QuestionOrigin[] = [];
  readonly skipped: SkippedQuestion[] = [];
  private readonly firstSeen = new Map<string, string>();

  add(q: Omit<TeacherQuestion, 'index'>, origin: QuestionOrigin, where: string): void {
    const before = this.firstSeen.get(q.problemId);
    if (before !== undefined) {
      if ('file' in origin) this.skipped.push({ file: origin.file, line: origin.line, reason: `the same problem as ${before}` });
      return;
    }
    this.firstSeen.set(q.problemId, where);
    this.questions.push({ ...q, index: this.questions.length });
    this.origins.push(origin);
  }
}

/** The 1-based line numbers of a file's non-empty lines, in order (how parseQuestionsJsonl counts rows). */
function rowLines(text: string): number[] {
  const out: number[] = [];
  text.replace(/^\uFEFF/, '').split(/\r?\n/).forEach((raw, i) => {
    if (raw.trim()) out.push(i + 1);
  });
  return out;
}

async function fromFiles(files: File[]): Promise<QuestionList> {
  if (files.length === 0) throw new Error('Choose at least one question file.');
  const list = new QuestionList();
  for (const file of files) {
    let text: string;
    try {
      text = await file.text();
    } catch (e) {
      throw new Error(`Cannot read ${file.name}: ${e instanceof Error ? e.message : String(e)}`);
    }
    const parsed = parseQuestionsJsonl(text);
    const lines = rowLines(text);
    const kept = new Map(parsed.questions.map((q) => [lines[q.index], q]));
    const rejected = new Map(parsed.rejected.map((r) => [r.line, r.reason]));
    for (const line of lines) {
      const q = kept.get(line);
      if (q) list.add(q, { file: file.name, line }, `${file.name} line ${line}`);
      else list.skipped.push({ file: file.name, line, reason: rejected.get(line) ?? 'not read' });
    }
  }
  return list;
}

/** Rows in file order (file, then line), then by id: the order the dataset was imported in. */
function fileOrder(a: Trajectory, b: Trajectory): number {
  const fa = String(a.meta?.file ?? '');
  const fb = String(b.meta?.file ?? '');
  if (fa !== fb) return fa < fb ? -1 : 1;
  const la = typeof a.meta?.line === 'number' ? a.meta.line : Infinity;
  const lb = typeof b.meta?.line === 'number' ? b.meta.line : Infinity;
  return la - lb || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

async function fromDataset(db: PlantuneDb, datasetId: string, split: Split | 'all'): Promise<{ list: QuestionList; name: string }> {
  const record = await getDataset(db, datasetId);
  if (!record) throw new Error(`There is no dataset "${datasetId}" (was it deleted?).`);
  const rows = (await getTrajectories(db, datasetId, split === 'all' ? undefined : split)).sort(fileOrder);
  const list = new QuestionList();
  for (const row of rows) {
    list.add({ question: row.question, gold: { ...row.finalAnswer }, problemId: row.problemId }, { datasetId, rowId: row.id }, `row ${row.id}`);
  }
  return { list, name: record.name };
}

/** Reads a job's questions; throws a clear error when none can be used. */
export async function readQuestions(db: () => Promise<PlantuneDb>, source: QuestionSource, limit?: number): Promise<JobInput> {
  if (limit !== undefined && !(Number.isInteger(limit) && limit >= 1)) throw new RangeError(`The question limit must be a whole number of at least 1, got ${limit}.`);
  let list: QuestionList;
  let description: string;
  if (source.kind === 'files') {
    list = await fromFiles(source.files);
    description = source.files.map((f) => f.name).join(', ');
    if (list.questions.length === 0) {
      const why = list.skipped.slice(0, 3).map((s) => `${s.file} line ${s.line}: ${s.reason}`).join('; ');
      throw new Error(`No usable question in ${description}: expected JSONL rows {"question": ..., "answer": "... #### 72"}${why ? ` (${why})` : ''}.`);
    }
  } else {
    const split = source.split ?? 'train';
    const found = await fromDataset(await db(), source.datasetId, split);
    list = found.list;
    description = `dataset “${found.name}” (${split === 'all' ? 'all rows' : `${split} split`})`;
    if (list.questions.length === 0) throw new Error(`The ${description} has no rows to ask about.`);
  }
  const n = limit === undefined ? list.questions.length : Math.min(limit, list.questions.length);
  return { questions: list.questions.slice(0, n), origins: list.origins.slice(0, n), skipped: list.skipped, description };
}
