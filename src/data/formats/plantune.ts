// Plantune's own JSONL: one Trajectory per line, camelCase, the `Trajectory` type itself. The schema,
// defaults and an example are in docs/plantune-jsonl.md; keep the two in step.

import { formatNumber, parseNumber } from '../answers';
import { isRowRejection, rowRejection, type RowRejection } from '../rejection';
import { problemIdFor } from '../problem-id';
import type { FinalAnswer, PlanStep, SourceFormat, Trajectory, TrajectoryRewards } from '../trajectory';
import { asFields, provenance, requiredString, rowId, typeName, type Fields, type FormatParser, type ParseResult, type RowContext } from './row';

/** Every SourceFormat (the `satisfies` makes adding a format without listing it here a type error). */
const SOURCES = Object.keys({
  gsm8k: true, 'gsm8k-socratic': true, 'ai-subq-raw': true, 'ai-subq-dataset': true,
  'plan-tuning': true, plantune: true, 'trl-prompt-completion': true, 'trl-messages': true,
} satisfies Record<SourceFormat, true>);

function optionalString(fields: Fields, key: string): string | undefined | RowRejection {
  const value = fields[key];
  if (value === undefined || value === null) return undefined;
  return typeof value === 'string' ? value : rowRejection('wrong-type', `"${key}" must be a string, got ${typeName(value)}`);
}

function optionalStrings<K extends string>(fields: Fields, keys: readonly K[]): Partial<Record<K, string>> | RowRejection {
  const out: Partial<Record<K, string>> = {};
  for (const key of keys) {
    const value = optionalString(fields, key);
    if (isRowRejection(value)) return value;
    if (value !== undefined) out[key] = value;
  }
  return out;
}

function planOf(fields: Fields): PlanStep[] | RowRejection {
  const raw = fields.plan;
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) return rowRejection('wrong-type', `"plan" must be an array, got ${typeName(raw)}`);
  const plan: PlanStep[] = [];
  for (const [i, item] of raw.entries()) {
    const step = asFields(item);
    if (isRowRejection(step)) return rowRejection('wrong-type', `"plan"[${i}] must be an object, got ${typeName(item)}`);
    const subQuestion = requiredString(step, 'subQuestion', 'malformed-plan');
    if (isRowRejection(subQuestion)) return rowRejection(subQuestion.code, `"plan"[${i}]: ${subQuestion.reason}`);
    const subAnswer = optionalString(step, 'subAnswer');
    if (isRowRejection(subAnswer)) return rowRejection(subAnswer.code, `"plan"[${i}]: ${subAnswer.reason}`);
    plan.push(subAnswer === undefined ? { subQuestion } : { subQuestion, subAnswer });
  }
  return plan;
}

/** `{"text", "value"?}`, or for convenience a bare string or number. */
function finalAnswerOf(fields: Fields): FinalAnswer | RowRejection {
  const raw = fields.finalAnswer;
  if (raw === undefined || raw === null) return rowRejection('missing-answer', 'missing "finalAnswer"');
  if (typeof raw === 'number') {
    return Number.isFinite(raw) ? { text: formatNumber(raw), value: raw } : rowRejection('unparseable-answer', '"finalAnswer" is not a finite number');
  }
  if (typeof raw === 'string') return withValue(raw);
  const answer = asFields(raw);
  if (isRowRejection(answer)) return rowRejection('wrong-type', `"finalAnswer" must be an object, string or number, got ${typeName(raw)}`);
  const text = requiredString(answer, 'text', 'missing-answer');
  if (isRowRejection(text)) return rowRejection(text.code, `"finalAnswer": ${text.reason}`);
  if (answer.value === undefined || answer.value === null) return withValue(text);
  if (typeof answer.value !== 'number' || !Number.isFinite(answer.value)) {
    return rowRejection('wrong-type', `"finalAnswer.value" must be a finite number, got ${typeName(answer.value)}`);
  }
  return { text: text.trim(), value: answer.value };
}

function withValue(text: string): FinalAnswer | RowRejection {
  if (!text.trim()) return rowRejection('missing-answer', '"finalAnswer" is empty');
  const value = parseNumber(text);
  return value === undefined ? { text: text.trim() } : { text: text.trim(), value };
}

function rewardsOf(fields: Fields): TrajectoryRewards | undefined | RowRejection {
  const raw = fields.rewards;
  if (raw === undefined || raw === null) return undefined;
  const rewards = asFields(raw);
  if (isRowRejection(rewards)) return rowRejection('wrong-type', `"rewards" must be an object, got ${typeName(raw)}`);
  const { answerCorrectness, usefulness } = rewards;
  if (answerCorrectness !== undefined && typeof answerCorrectness !== 'number') {
    return rowRejection('wrong-type', `"rewards.answerCorrectness" must be a number, got ${typeName(answerCorrectness)}`);
  }
  if (usefulness !== undefined && (!Array.isArray(usefulness) || usefulness.some((u) => typeof u !== 'number'))) {
    return rowRejection('wrong-type', '"rewards.usefulness" must be an array of numbers');
  }
  return {
    ...(answerCorrectness !== undefined ? { answerCorrectness } : {}),
    ...(usefulness !== undefined ? { usefulness: usefulness as number[] } : {}),
  };
}

function parse(value: unknown, ctx: RowContext): ParseResult {
  const fields = asFields(value);
  if (isRowRejection(fields)) return fields;
  const question = requiredString(fields, 'question', 'missing-question');
  if (isRowRejection(question)) return question;
  const plan = planOf(fields);
  if (isRowRejection(plan)) return plan;
  const finalAnswer = finalAnswerOf(fields);
  if (isRowRejection(finalAnswer)) return finalAnswer;
  const rewards = rewardsOf(fields);
  if (isRowRejection(rewards)) return rewards;
  const optional = optionalStrings(fields, ['id', 'problemId', 'solution', 'source'] as const);
  if (isRowRejection(optional)) return optional;
  const source = optional.source ?? 'plantune';
  if (!SOURCES.includes(source)) {
    return rowRejection('wrong-type', `"source" must be one of ${SOURCES.join(', ')}; got "${source}"`);
  }
  const meta = fields.meta === undefined || fields.meta === null ? provenance(ctx) : asFields(fields.meta);
  if (isRowRejection(meta)) return rowRejection('wrong-type', `"meta" must be an object, got ${typeName(fields.meta)}`);
  const trajectory: Trajectory = {
    id: optional.id || rowId(ctx),
    problemId: optional.problemId || problemIdFor(question),
    question: question.trim(),
    plan,
    solution: optional.solution ?? '',
    finalAnswer,
    source: source as SourceFormat,
    ...(rewards ? { rewards } : {}),
    meta,
  };
  return trajectory;
}

export const plantune: FormatParser = { format: 'plantune', parse };

/** One Plantune JSONL line (no newline) for a trajectory; `plantune.parse` reads it back unchanged. */
export function toPlantuneLine(t: Trajectory): string {
  const { id, problemId, question, plan, solution, finalAnswer, source, rewards, meta } = t;
  return JSON.stringify({ id, problemId, question, plan, solution, finalAnswer, source, rewards, meta });
}
