// The teacher contract: anything that turns chat messages into a completion. The HTTP client
// (http-teacher.ts) is one implementation; a larger model running inside Plantune is another
// (function-teacher.ts shows how one plugs in). Methods and jobs only ever see this interface.

export type ChatRole = 'system' | 'user' | 'assistant';

export interface ChatMessage {
  role: ChatRole;
  content: string;
}

/**
 * Why generation stopped: 'stop' (a natural end or a stop string), 'length' (max tokens reached:
 * the text is truncated), 'content_filter', or whatever else a server reports.
 */
export type FinishReason = 'stop' | 'length' | 'content_filter' | (string & {});

/** Tokens and requests spent; summed per call, per question and per job. */
export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
  /** HTTP requests (or local generations) made, retries included. */
  requests: number;
}

export interface CompleteOptions {
  temperature?: number;
  maxTokens?: number;
  stop?: string[];
  signal?: AbortSignal;
  /**
   * Return a completion cut off by the token limit (finishReason 'length') instead of failing with
   * a TeacherError of kind 'truncated'. Default false.
   */
  allowTruncated?: boolean;
  /** What the call is for ('plan', 'judge', ...): shown in logs and errors, never the content. */
  purpose?: string;
}

export interface Completion {
  text: string;
  usage: TokenUsage;
  finishReason: FinishReason;
}

/** One sampled text of a multi-sample request. */
export interface Sample {
  text: string;
  finishReason: FinishReason;
}

/** n samples of one prompt and what they cost together. */
export interface SampleSet {
  samples: Sample[];
  usage: TokenUsage;
}

export interface Teacher {
  /** The model's name, recorded as provenance in every trajectory. */
  readonly model: string;
  /** Where it runs, for messages and provenance (a URL without credentials, or e.g. 'local'). */
  readonly endpoint: string;
  /** One completion. Fails with a TeacherError (see errors.ts), never with an untyped error. */
  complete(messages: ChatMessage[], options?: CompleteOptions): Promise<Completion>;
  /**
   * Optional: n samples in one request (OpenAI's `n`). Truncated samples are returned with
   * finishReason 'length' for the caller to drop. Without it, `sampleN` makes n `complete` calls.
   */
  completeMany?(messages: ChatMessage[], n: number, options?: CompleteOptions): Promise<SampleSet>;
}

export function zeroUsage(): TokenUsage {
  return { promptTokens: 0, completionTokens: 0, requests: 0 };
}

export function addUsage(into: TokenUsage, more: TokenUsage | undefined): TokenUsage {
  if (more) {
    into.promptTokens += more.promptTokens;
    into.completionTokens += more.completionTokens;
    into.requests += more.requests;
  }
  return into;
}

export function totalTokens(u: TokenUsage): number {
  return u.promptTokens + u.completionTokens;
}
