// n samples of one prompt from any teacher: one multi-sample request when the teacher offers it,
// otherwise n single requests (run concurrently; the teacher's own limit paces them).

import { TeacherError, asTeacherError } from './errors';
import { type ChatMessage, type CompleteOptions, type SampleSet, type Teacher, addUsage, zeroUsage } from './types';

/**
 * n `complete` calls. Truncated samples are kept (finishReason 'length') for the caller to drop; a
 * sample that fails on its own is dropped; the set fails only when every sample failed, or at once
 * when a failure is about the endpoint rather than the sample (unreachable, auth, aborted).
 */
export async function sampleByRepeat(teacher: Teacher, messages: ChatMessage[], n: number, options: CompleteOptions = {}): Promise<SampleSet> {
  const usage = zeroUsage();
  const settled = await Promise.allSettled(
    Array.from({ length: n }, () => teacher.complete(messages, { ...options, allowTruncated: true })),
  );
  const set: SampleSet = { samples: [], usage };
  let firstError: TeacherError | undefined;
  let fatal: TeacherError | undefined;
  for (const s of settled) {
    if (s.status === 'fulfilled') {
      addUsage(usage, s.value.usage);
      set.samples.push({ text: s.value.text, finishReason: s.value.finishReason });
    } else {
      const e = asTeacherError(s.reason);
      addUsage(usage, e.usage);
      if (e.fatal) fatal ??= e;
      firstError ??= e;
    }
  }
  if (fatal) throw withUsage(fatal, usage);
  if (set.samples.length === 0 && firstError) throw withUsage(firstError, usage);
  return set;
}

/** n samples through `completeMany` when the teacher has it, else by repeating `complete`. */
export function sampleN(teacher: Teacher, messages: ChatMessage[], n: number, options: CompleteOptions = {}): Promise<SampleSet> {
  if (teacher.completeMany) return teacher.completeMany(messages, n, options);
  return sampleByRepeat(teacher, messages, n, options);
}

function withUsage(e: TeacherError, usage: SampleSet['usage']): TeacherError {
  return new TeacherError(e.kind, e.message, { status: e.status, attempts: e.attempts, usage: { ...usage } });
}
