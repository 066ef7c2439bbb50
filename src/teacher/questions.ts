// The input of a teacher job: plain questions with their gold answers, e.g. GSM8K's train.jsonl.

import { extractFinalAnswer } from '../data/answers';
import { hash64 } from '../data/hash';
import { problemIdFor } from '../data/problem-id';
import type { FinalAnswer } from '../data/trajectory';

export interface TeacherQuestion {
  /** Position in the source list (0-based); results are keyed by it. */
  index: number;
  question: string;
  /** The gold final answer; without it a trajectory cannot be scored. */
  gold?: FinalAnswer;
  /** Same problem, same id, across every dataset (src/data/problem-id.ts). */
  problemId: string;
}

export interface QuestionRejection {
  /** 1-based line. */
  line: number;
  reason: string;
}

export interface QuestionFile {
  questions: TeacherQuestion[];
  rejected: QuestionRejection[];
}

/** The gold answer a row states: GSM8K's "#### 72", a bare "72", or a number. */
export function goldFrom(answer: unknown): FinalAnswer | undefined {
  if (typeof answer === 'number' && Number.isFinite(answer)) return { text: String(answer), value: answer };
  if (typeof answer !== 'string' || !answer.trim()) return undefined;
  const found = extractFinalAnswer(answer);
  if (!found || !found.text) return undefined;
  return found.value !== undefined ? { text: found.text, value: found.value } : { text: found.text };
}

export function makeQuestion(index: number, question: string, gold?: FinalAnswer): TeacherQuestion {
  return { index, question, gold, problemId: problemIdFor(question) };
}

/**
 * Reads JSONL rows of `{question, answer}` (GSM8K; also `problem` for the question and
 * `final_answer` / `true_answer` for the gold). Rows are indexed by their position among the
 * non-empty lines. Bad rows are listed with their line and reason; good rows are kept.
 */
export function parseQuestionsJsonl(text: string): QuestionFile {
  const questions: TeacherQuestion[] = [];
  const rejected: QuestionRejection[] = [];
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  let index = 0;
  lines.forEach((raw, i) => {
    const line = i + 1;
    if (!raw.trim()) return;
    const at = index++;
    let row: unknown;
    try {
      row = JSON.parse(raw);
    } catch {
      rejected.push({ line, reason: 'not valid JSON' });
      return;
    }
    if (typeof row !== 'object' || row === null || Array.isArray(row)) {
      rejected.push({ line, reason: 'not a JSON object' });
      return;
    }
    const r = row as Record<string, unknown>;
    const q = typeof r.question === 'string' ? r.question : typeof r.problem === 'string' ? r.problem : undefined;
    if (!q?.trim()) {
      rejected.push({ line, reason: 'no "question" text' });
      return;
    }
    const goldSource = r.answer ?? r.final_answer ?? r.true_answer;
    if (goldSource === undefined) {
      rejected.push({ line, reason: 'no "answer" (the gold answer, e.g. "#### 72")' });
      return;
    }
    const gold = goldFrom(goldSource);
    if (!gold) {
      rejected.push({ line, reason: 'the "answer" states no final answer (expected e.g. "#### 72")' });
      return;
    }
    questions.push(makeQuestion(at, q.trim(), gold));
  });
  return { questions, rejected };
}

/** Identity of one question's text, stored with its result so a resumed job can check its input. */
export function questionHash(q: Pick<TeacherQuestion, 'question'>): string {
  return hash64(q.question);
}
