// The two ways a teacher turns a plain question into planning trajectories.
//
// plan  — Plan-Tuning best-of-n (arXiv 2507.07495): sample n plans at a temperature, have the teacher
//         judge each against the question's explicit and implicit constraints (a score in
//         [-100, 100]), keep the best, then have the teacher carry it out to a final answer.
//         One trajectory per question.
// subq  — sub-question decomposition (arXiv 2402.01812): sample n decompositions Q1..Qn, have the
//         teacher answer each (A1..An, then the final answer). One trajectory per distinct
//         decomposition: with n > 1 this gives several scored decompositions per problem, the data
//         offline RL learns from.
//
// Every trajectory is checked against the gold answer: rewards.answerCorrectness is 1 or 0, and
// meta.sft marks the correct ones for SFT.

import { answersMatch, extractFinalAnswer } from '../data/answers';
import type { FinalAnswer, PlanStep, Trajectory } from '../data/trajectory';
import { TeacherError, asTeacherError } from './errors';
import { parseExecutedSteps, parseJudgeScore, parsePlanSteps, parseSubAnswers, parseSubQuestions } from './parse';
import { type PromptSet, promptHash, renderPrompt } from './prompts';
import type { TeacherQuestion } from './questions';
import { sampleN } from './sampling';
import { type ChatMessage, type CompleteOptions, type Completion, type SampleSet, type Teacher, type TokenUsage, addUsage, zeroUsage } from './types';

export type MethodName = 'plan' | 'subq';

/** Names recorded in meta.method. */
export const METHOD_LABELS: Record<MethodName, string> = { plan: 'plan-best-of-n', subq: 'sub-questions' };

export interface SamplingSettings {
  /** Plans (plan) or decompositions (subq) sampled per question. */
  n: number;
  /** Temperature of those samples. */
  temperature: number;
  /** Token limit of every generation except the judge's. */
  maxTokens: number;
  /** The judge's temperature and token limit. */
  judgeTemperature: number;
  judgeMaxTokens: number;
  /** Temperature when carrying out a plan or answering sub-questions. */
  executeTemperature: number;
}

export const DEFAULT_SAMPLING: Readonly<SamplingSettings> = {
  n: 5,
  temperature: 0.7,
  maxTokens: 1024,
  judgeTemperature: 0,
  judgeMaxTokens: 256,
  executeTemperature: 0,
};

/** Counts what every call of one question costs, failed calls included. */
export class UsageMeter {
  readonly usage: TokenUsage = zeroUsage();

  constructor(
    readonly teacher: Teacher,
    readonly signal?: AbortSignal,
  ) {}

  async complete(messages: ChatMessage[], options: CompleteOptions): Promise<Completion> {
    try {
      const c = await this.teacher.complete(messages, { ...options, signal: this.signal });
      addUsage(this.usage, c.usage);
      return c;
    } catch (e) {
      const te = asTeacherError(e);
      addUsage(this.usage, te.usage);
      throw te;
    }
  }

  async sample(messages: ChatMessage[], n: number, options: CompleteOptions): Promise<SampleSet> {
    try {
      const s = await sampleN(this.teacher, messages, n, { ...options, signal: this.signal });
      addUsage(this.usage, s.usage);
      return s;
    } catch (e) {
      const te = asTeacherError(e);
      addUsage(this.usage, te.usage);
      throw te;
    }
  }
}

export interface MethodContext {
  prompts: PromptSet;
  sampling: SamplingSettings;
  meter: UsageMeter;
}

/** A trajectory before ids, correctness and provenance are attached. */
export interface Draft {
  plan: PlanStep[];
  solution: string;
  /** The answer the teacher reached (the trajectory's finalAnswer is the gold one). */
  finalAnswer: FinalAnswer;
  /** Method-specific provenance, merged into meta. */
  details: Record<string, unknown>;
}

function formatSteps(steps: string[], label: (i: number) => string): string {
  return steps.map((s, i) => `${label(i)}: ${s}`).join('\n');
}

function usable(s: { finishReason: string }): boolean {
  return s.finishReason !== 'length' && s.finishReason !== 'content_filter';
}

/** The failure to report when no sample could be used. */
function noUsableSample(what: string, samples: { finishReason: string }[], endpoint: string): TeacherError {
  if (samples.length > 0 && samples.every((s) => s.finishReason === 'length')) {
    return new TeacherError('truncated', `every ${what} the teacher at ${endpoint} wrote hit the token limit`);
  }
  return new TeacherError('unparseable', `the teacher at ${endpoint} wrote no ${what} that could be read as a numbered list`);
}

function finalAnswerOf(text: string, endpoint: string, purpose: string): FinalAnswer {
  const found = extractFinalAnswer(text);
  if (!found || !found.text) throw new TeacherError('no-answer', `the teacher at ${endpoint} stated no final answer (${purpose})`);
  return found.value !== undefined ? { text: found.text, value: found.value } : { text: found.text };
}

/** Plan-Tuning best-of-n. */
export async function runPlanMethod(q: TeacherQuestion, ctx: MethodContext): Promise<Draft[]> {
  const { prompts, sampling, meter } = ctx;
  const endpoint = meter.teacher.endpoint;
  const set = await meter.sample(renderPrompt(prompts.plan, { question: q.question }), sampling.n, {
    temperature: sampling.temperature,
    maxTokens: sampling.maxTokens,
    purpose: 'plan',
  });
  const seen = new Set<string>();
  const candidates: { steps: string[]; text: string }[] = [];
  for (const s of set.samples.filter(usable)) {
    const steps = parsePlanSteps(s.text);
    if (steps.length === 0) continue;
    const text = formatSteps(steps, (i) => `Step ${i + 1}`);
    if (seen.has(text)) continue;
    seen.add(text);
    candidates.push({ steps, text });
  }
  if (candidates.length === 0) throw noUsableSample('plan', set.samples, endpoint);

  const verdicts = await Promise.all(
    candidates.map(async (c) => {
      try {
        const judged = await meter.complete(renderPrompt(prompts.judge, { question: q.question, plan: c.text }), {
          temperature: sampling.judgeTemperature,
          maxTokens: sampling.judgeMaxTokens,
          allowTruncated: true,
          purpose: 'judge',
        });
        return { score: parseJudgeScore(judged.text)?.score };
      } catch (e) {
        const te = asTeacherError(e);
        if (te.fatal) throw te;
        return { score: undefined, error: te.kind };
      }
    }),
  );
  let best = 0;
  verdicts.forEach((v, i) => {
    if ((v.score ?? -Infinity) > (verdicts[best].score ?? -Infinity)) best = i;
  });
  const chosen = candidates[best];

  const executed = await meter.complete(renderPrompt(prompts.execute, { question: q.question, plan: chosen.text }), {
    temperature: sampling.executeTemperature,
    maxTokens: sampling.maxTokens,
    purpose: 'execute',
  });
  const solution = executed.text.trim();
  const finalAnswer = finalAnswerOf(solution, endpoint, 'execute');
  const worked = parseExecutedSteps(solution);
  const plan: PlanStep[] = chosen.steps.map((s, i) => (worked.length === chosen.steps.length ? { subQuestion: s, subAnswer: worked[i] } : { subQuestion: s }));
  return [
    {
      plan,
      solution,
      finalAnswer,
      details: {
        planText: chosen.text,
        judge: {
          scores: verdicts.map((v) => v.score ?? null),
          best,
          bestScore: verdicts[best].score ?? null,
          unscored: verdicts.filter((v) => v.score === undefined).length,
        },
        samples: { drawn: set.samples.length, distinct: candidates.length },
      },
    },
  ];
}

/** Sub-question decomposition. */
export async function runSubQuestionMethod(q: TeacherQuestion, ctx: MethodContext): Promise<Draft[]> {
  const { prompts, sampling, meter } = ctx;
  const endpoint = meter.teacher.endpoint;
  const set = await meter.sample(renderPrompt(prompts.decompose, { question: q.question }), sampling.n, {
    temperature: sampling.temperature,
    maxTokens: sampling.maxTokens,
    purpose: 'decompose',
  });
  const seen = new Set<string>();
  const decompositions: { questions: string[]; text: string }[] = [];
  for (const s of set.samples.filter(usable)) {
    const questions = parseSubQuestions(s.text);
    if (questions.length === 0) continue;
    const text = formatSteps(questions, (i) => `Q${i + 1}`);
    if (seen.has(text)) continue;
    seen.add(text);
    decompositions.push({ questions, text });
  }
  if (decompositions.length === 0) throw noUsableSample('set of sub-questions', set.samples, endpoint);

  const outcomes = await Promise.all(
    decompositions.map(async (d, k): Promise<Draft | TeacherError> => {
      try {
        const answered = await meter.complete(renderPrompt(prompts.answer, { question: q.question, plan: d.text }), {
          temperature: sampling.executeTemperature,
          maxTokens: sampling.maxTokens,
          purpose: 'answer',
        });
        const solution = answered.text.trim();
        const finalAnswer = finalAnswerOf(solution, endpoint, 'answer');
        const answers = parseSubAnswers(solution);
        return {
          plan: d.questions.map((sq, i) => (answers[i] !== undefined ? { subQuestion: sq, subAnswer: answers[i] } : { subQuestion: sq })),
          solution,
          finalAnswer,
          details: { subQuestionsText: d.text, decomposition: k },
        };
      } catch (e) {
        const te = asTeacherError(e);
        if (te.fatal) throw te;
        return te;
      }
    }),
  );
  const drafts = outcomes.filter((o): o is Draft => !(o instanceof TeacherError));
  const failures = outcomes.filter((o): o is TeacherError => o instanceof TeacherError);
  if (drafts.length === 0) throw failures[0];
  for (const d of drafts) {
    d.details.samples = { drawn: set.samples.length, distinct: decompositions.length, failed: failures.map((f) => f.kind) };
  }
  return drafts;
}

export const METHODS: Record<MethodName, (q: TeacherQuestion, ctx: MethodContext) => Promise<Draft[]>> = {
  plan: runPlanMethod,
  subq: runSubQuestionMethod,
};

export interface ProvenanceInfo {
  jobId: string;
  method: MethodName;
  teacher: Pick<Teacher, 'model' | 'endpoint'>;
  prompts: PromptSet;
  sampling: SamplingSettings;
  /** What the whole question cost (all its rows together). */
  usage: TokenUsage;
  createdAt: string;
}

/**
 * The Plantune trajectories of one question: ids `<jobId>:<index>` (and `:<k>` when a question gives
 * several rows), correctness against the gold answer, and provenance in meta. As in every Plantune
 * trajectory, `finalAnswer` is the gold answer (the teacher's own is `meta.generatedFinalAnswer`), so a
 * wrong trajectory carries the right target and `rewards.answerCorrectness` 0.
 */
export function toTrajectories(q: TeacherQuestion, drafts: Draft[], info: ProvenanceInfo): Trajectory[] {
  const hash = promptHash(info.prompts);
  return drafts.map((d, k) => {
    const correct = q.gold ? answersMatch(d.finalAnswer, q.gold) : undefined;
    return {
      id: drafts.length > 1 ? `${info.jobId}:${q.index}:${k}` : `${info.jobId}:${q.index}`,
      problemId: q.problemId,
      question: q.question,
      plan: d.plan,
      solution: d.solution,
      finalAnswer: q.gold ? { ...q.gold } : d.finalAnswer,
      source: 'plantune',
      rewards: correct === undefined ? {} : { answerCorrectness: correct ? 1 : 0 },
      meta: {
        teacher: { model: info.teacher.model, endpoint: info.teacher.endpoint },
        method: METHOD_LABELS[info.method],
        promptVersion: info.prompts.version,
        promptHash: hash,
        sampling: { ...info.sampling },
        usage: { ...info.usage },
        jobId: info.jobId,
        questionIndex: q.index,
        row: k,
        rows: drafts.length,
        generatedFinalAnswer: d.finalAnswer.text,
        ...(d.finalAnswer.value !== undefined ? { generatedFinalValue: d.finalAnswer.value } : {}),
        correct: correct ?? null,
        sft: correct === true,
        createdAt: info.createdAt,
        ...d.details,
      },
    };
  });
}
