// Typed failures of a teacher call. Every error a teacher or a method throws is a TeacherError, so a
// job can decide per kind: retry the request, fail the question, or stop the whole job.

import type { TokenUsage } from './types';

export type TeacherErrorKind =
  /** The endpoint could not be reached at all (connection refused, DNS, reset) after retries. */
  | 'unreachable'
  /** 401/403: the key is missing or wrong. */
  | 'auth'
  /** 404: no chat-completions route at the base URL, or no such model. */
  | 'not-found'
  /** 429 after retries. */
  | 'rate-limited'
  /** 5xx (or 408/409/425) after retries. */
  | 'server'
  /** No response within the per-request timeout, after retries. */
  | 'timeout'
  /** 400 or another 4xx: the server refused this request (e.g. the prompt is too long). */
  | 'bad-request'
  /** The body was not JSON, or not the shape of a chat completion, after retries. */
  | 'malformed'
  /** A well-formed response without any choice, after retries. */
  | 'no-choices'
  /** finish_reason "length": the answer was cut off by the token limit. */
  | 'truncated'
  /** finish_reason "content_filter". */
  | 'filtered'
  /** The teacher's text could not be read as what was asked (no plan steps, no sub-questions). */
  | 'unparseable'
  /** The teacher's solution states no final answer. */
  | 'no-answer'
  /** Cancelled by the caller's AbortSignal. */
  | 'aborted';

/** Kinds that say nothing about one question but about the endpoint: a job stops on them. */
const FATAL: ReadonlySet<TeacherErrorKind> = new Set(['unreachable', 'auth', 'not-found', 'aborted']);
/** Kinds worth another try later (a resumed job tries these questions again). */
const TRANSIENT: ReadonlySet<TeacherErrorKind> = new Set(['unreachable', 'rate-limited', 'server', 'timeout']);

export interface TeacherErrorDetails {
  status?: number;
  /** HTTP attempts made before giving up. */
  attempts?: number;
  /** Tokens the failed call still cost (e.g. a truncated answer). */
  usage?: TokenUsage;
}

export class TeacherError extends Error {
  override readonly name = 'TeacherError';
  readonly kind: TeacherErrorKind;
  readonly status?: number;
  readonly attempts?: number;
  readonly usage?: TokenUsage;

  constructor(kind: TeacherErrorKind, message: string, details: TeacherErrorDetails = {}) {
    super(message);
    this.kind = kind;
    this.status = details.status;
    this.attempts = details.attempts;
    this.usage = details.usage;
  }

  /** True when the job should stop rather than go on to the next question. */
  get fatal(): boolean {
    return FATAL.has(this.kind);
  }

  /** True when the same request may well succeed later. */
  get transient(): boolean {
    return TRANSIENT.has(this.kind);
  }
}

export function isTeacherError(e: unknown): e is TeacherError {
  return e instanceof TeacherError;
}

/** Any thrown value as a TeacherError; a plain abort becomes kind 'aborted'. */
export function asTeacherError(e: unknown): TeacherError {
  if (e instanceof TeacherError) return e;
  if (isAbortError(e)) return new TeacherError('aborted', 'cancelled');
  const message = e instanceof Error ? e.message : String(e);
  return new TeacherError('malformed', message);
}

export function isAbortError(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as { name?: unknown }).name === 'AbortError';
}

/** Replaces every occurrence of each secret in `text` with "[redacted]". */
export function redact(text: string, secrets: readonly (string | undefined)[]): string {
  let out = text;
  for (const s of secrets) {
    if (s && s.length >= 4) out = out.split(s).join('[redacted]');
  }
  return out;
}
