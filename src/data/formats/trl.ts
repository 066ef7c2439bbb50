// TRL-style JSONL (the dataset shapes Hugging Face TRL's SFTTrainer / GRPOTrainer read):
//   prompt-completion    {"prompt": "…", "completion": "…"}
//                        {"prompt": [{"role": "user", "content": "…"}], "completion": [{"role": "assistant", "content": "…"}]}
//   messages             {"messages": [{"role": "system", …}, {"role": "user", …}, {"role": "assistant", …}]}
// The question is the prompt (with a Plantune "Question: " label removed) or the last user message before
// the final assistant turn; the completion is read by the template parser into plan steps and a final
// answer, which is required. `toTrlRecord` writes the same shapes, for training elsewhere.

import { isRowRejection, rowRejection, type RowRejection } from '../rejection';
import { problemIdFor } from '../problem-id';
import { parseCompletion, parsePrompt, renderExample, type RenderOptions, type TemplateStyle } from '../templates';
import type { SourceFormat, Trajectory } from '../trajectory';
import { asFields, provenance, rowId, typeName, type Fields, type FormatParser, type ParseResult, type RowContext } from './row';

interface Message {
  role: string;
  content: string;
}

function messagesOf(value: unknown, key: string): Message[] | RowRejection {
  if (!Array.isArray(value)) return rowRejection('wrong-type', `"${key}" must be an array of messages, got ${typeName(value)}`);
  const messages: Message[] = [];
  for (const [i, item] of value.entries()) {
    const m = asFields(item);
    if (isRowRejection(m) || typeof m.role !== 'string' || typeof m.content !== 'string') {
      return rowRejection('wrong-type', `"${key}"[${i}] must be {"role": string, "content": string}`);
    }
    messages.push({ role: m.role, content: m.content });
  }
  return messages;
}

/** A prompt or completion field: plain text, or messages whose contents of `role` are joined. */
function textOf(fields: Fields, key: string, role: string, missing: 'missing-question' | 'missing-answer'): string | RowRejection {
  const value = fields[key];
  if (value === undefined || value === null) return rowRejection(missing, `missing "${key}"`);
  if (typeof value === 'string') return value;
  const messages = messagesOf(value, key);
  if (isRowRejection(messages)) return messages;
  const picked = messages.filter((m) => m.role === role);
  return role === 'user' ? (picked[picked.length - 1]?.content ?? '') : picked.map((m) => m.content).join('\n');
}

function build(question: string, completion: string, source: SourceFormat, ctx: RowContext, extra: Record<string, unknown>): ParseResult {
  if (!question.trim()) return rowRejection('missing-question', 'the prompt (user message) is empty');
  if (!completion.trim()) return rowRejection('missing-answer', 'the completion (assistant message) is empty');
  const parsed = parseCompletion(completion);
  if (!parsed.answer || !parsed.answer.text) {
    return rowRejection('missing-answer', 'the completion states no final answer ("#### x", \\boxed{x}, "Final answer: x" or "The answer is x")');
  }
  const { text, value } = parsed.answer;
  const trajectory: Trajectory = {
    id: rowId(ctx),
    problemId: problemIdFor(question),
    question: question.trim(),
    plan: parsed.plan,
    solution: completion,
    finalAnswer: value === undefined ? { text } : { text, value },
    source,
    meta: { ...provenance(ctx), ...(parsed.style ? { style: parsed.style } : {}), ...extra },
  };
  return trajectory;
}

function parsePromptCompletion(value: unknown, ctx: RowContext): ParseResult {
  const fields = asFields(value);
  if (isRowRejection(fields)) return fields;
  const prompt = textOf(fields, 'prompt', 'user', 'missing-question');
  if (isRowRejection(prompt)) return prompt;
  const completion = textOf(fields, 'completion', 'assistant', 'missing-answer');
  if (isRowRejection(completion)) return completion;
  return build(parsePrompt(prompt), completion, 'trl-prompt-completion', ctx, {});
}

function parseMessages(value: unknown, ctx: RowContext): ParseResult {
  const fields = asFields(value);
  if (isRowRejection(fields)) return fields;
  if (fields.messages === undefined) return rowRejection('missing-question', 'missing "messages"');
  const messages = messagesOf(fields.messages, 'messages');
  if (isRowRejection(messages)) return messages;
  const lastAssistant = messages.map((m) => m.role).lastIndexOf('assistant');
  if (lastAssistant < 0) return rowRejection('missing-answer', '"messages" has no assistant message');
  const user = messages.slice(0, lastAssistant).filter((m) => m.role === 'user').pop();
  if (!user) return rowRejection('missing-question', '"messages" has no user message before the last assistant message');
  const system = messages.find((m) => m.role === 'system')?.content;
  return build(parsePrompt(user.content), messages[lastAssistant].content, 'trl-messages', ctx, system ? { system } : {});
}

export const trlPromptCompletion: FormatParser = { format: 'trl-prompt-completion', parse: parsePromptCompletion };
export const trlMessages: FormatParser = { format: 'trl-messages', parse: parseMessages };

export type TrlShape = 'prompt-completion' | 'messages';

/** A TRL dataset record for a trajectory rendered in `style`; one JSON.stringify of it is one JSONL line. */
export function toTrlRecord(t: Trajectory, style: TemplateStyle, shape: TrlShape, options: RenderOptions = {}): Record<string, unknown> {
  const { prompt, completion } = renderExample(t, style, options);
  if (shape === 'prompt-completion') return { prompt, completion };
  return { messages: [{ role: 'user', content: prompt }, { role: 'assistant', content: completion }] };
}
