// A teacher behind any OpenAI-compatible chat-completions endpoint (OpenAI, vLLM, llama.cpp's server,
// Ollama's /v1, LM Studio, ...): POST {baseUrl}/chat/completions.
//
// The API key lives only in this object's private field: it is sent in the Authorization header and
// nowhere else — never in a URL, a log event, an error message or provenance. Server replies are
// scrubbed of it too before they reach a message, in case a server echoes it back.

import { TeacherError, type TeacherErrorKind, isAbortError, redact } from './errors';
import { type BackoffConfig, Semaphore, backoffDelay, retryAfterMs, sleep } from './limiter';
import { sampleByRepeat } from './sampling';
import type { ChatMessage, CompleteOptions, Completion, FinishReason, Sample, SampleSet, Teacher, TokenUsage } from './types';

export interface HttpTeacherConfig {
  /** e.g. "https://api.openai.com/v1" or "http://127.0.0.1:8000/v1" (a trailing /chat/completions is accepted). */
  baseUrl: string;
  model: string;
  /** Held in memory only; the caller decides whether and where to persist it. */
  apiKey?: string;
  /** Requests in flight at once (default 4). */
  concurrency?: number;
  /** Retries after the first attempt on 429, 5xx, timeouts, network errors and malformed replies (default 5). */
  maxRetries?: number;
  /** First retry delay before jitter (default 500 ms); doubles each retry up to retryMaxMs (default 30 s). */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** Longest Retry-After honoured (default 120 s); a longer one is cut to this. */
  maxRetryAfterMs?: number;
  /** Per-request timeout, body included (default 120 s). */
  timeoutMs?: number;
  /** How `completeMany` gets n samples: the `n` parameter in one request, or n requests (default). */
  nMode?: 'param' | 'repeat';
  /** Extra fields merged into every request body (e.g. { top_p: 0.95, seed: 1 }). */
  extraBody?: Record<string, unknown>;
  /** Observes requests, retries and failures. Events never hold the key or any message content. */
  log?: (event: TeacherLogEvent) => void;
  /** For tests: a fetch and a random source to use instead of the global ones. */
  fetch?: typeof fetch;
  random?: () => number;
}

export interface TeacherLogEvent {
  type: 'request' | 'response' | 'retry' | 'give-up';
  purpose: string;
  /** 0-based attempt number of this call. */
  attempt: number;
  status?: number;
  kind?: TeacherErrorKind;
  /** Wait before the next attempt (type 'retry'). */
  delayMs?: number;
  /** Time the request took. */
  ms?: number;
  message?: string;
}

interface RawReply {
  status: number;
  headers: Headers;
  text: string;
}

interface ParsedChoice {
  text: string;
  finishReason: FinishReason;
}

const RETRY_STATUS = new Set([408, 409, 425, 429]);

export class HttpTeacher implements Teacher {
  readonly model: string;
  /** The base URL without credentials, query or trailing slash: safe to show and to record. */
  readonly endpoint: string;
  readonly nMode: 'param' | 'repeat';
  readonly #apiKey: string | undefined;
  readonly #url: string;
  readonly #limiter: Semaphore;
  readonly #maxRetries: number;
  readonly #backoff: BackoffConfig;
  readonly #maxRetryAfterMs: number;
  readonly #timeoutMs: number;
  readonly #extraBody: Record<string, unknown>;
  readonly #log?: (event: TeacherLogEvent) => void;
  readonly #fetch: typeof fetch;
  readonly #random: () => number;

  constructor(config: HttpTeacherConfig) {
    if (!config.model?.trim()) throw new TypeError('the teacher needs a model name');
    let url: URL;
    try {
      url = new URL(config.baseUrl);
    } catch {
      throw new TypeError('the teacher base URL is not a valid URL (expected e.g. http://127.0.0.1:8000/v1)');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new TypeError(`the teacher base URL must start with http:// or https://, not ${url.protocol}`);
    }
    if (url.username || url.password) {
      throw new TypeError('the teacher base URL must not contain credentials: pass the API key separately');
    }
    const path = url.pathname.replace(/\/+$/, '').replace(/\/chat\/completions$/, '');
    this.endpoint = url.origin + path;
    this.#url = url.origin + path + '/chat/completions' + url.search;
    this.model = config.model.trim();
    this.#apiKey = config.apiKey || undefined;
    this.nMode = config.nMode ?? 'repeat';
    this.#limiter = new Semaphore(config.concurrency ?? 4);
    this.#maxRetries = Math.max(0, config.maxRetries ?? 5);
    this.#backoff = { baseMs: config.retryBaseMs ?? 500, maxMs: config.retryMaxMs ?? 30_000 };
    this.#maxRetryAfterMs = config.maxRetryAfterMs ?? 120_000;
    this.#timeoutMs = config.timeoutMs ?? 120_000;
    this.#extraBody = config.extraBody ?? {};
    this.#log = config.log;
    this.#fetch = config.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.#random = config.random ?? Math.random;
  }

  /** What is safe to record about this teacher (no key). */
  toJSON(): { kind: 'openai-compatible'; model: string; endpoint: string } {
    return { kind: 'openai-compatible', model: this.model, endpoint: this.endpoint };
  }

  async complete(messages: ChatMessage[], options: CompleteOptions = {}): Promise<Completion> {
    const { choices, usage } = await this.#call(messages, 1, options);
    const choice = choices[0];
    checkFinish(choice, usage, options, this.endpoint);
    return { text: choice.text, usage, finishReason: choice.finishReason };
  }

  async completeMany(messages: ChatMessage[], n: number, options: CompleteOptions = {}): Promise<SampleSet> {
    if (this.nMode === 'repeat' || n <= 1) return sampleByRepeat(this, messages, n, options);
    const { choices, usage } = await this.#call(messages, n, options);
    const samples: Sample[] = choices.map((c) => ({ text: c.text, finishReason: c.finishReason }));
    return { samples, usage };
  }

  async #call(messages: ChatMessage[], n: number, options: CompleteOptions): Promise<{ choices: ParsedChoice[]; usage: TokenUsage }> {
    const body: Record<string, unknown> = { ...this.#extraBody, model: this.model, messages };
    if (options.temperature !== undefined) body.temperature = options.temperature;
    if (options.maxTokens !== undefined) body.max_tokens = options.maxTokens;
    if (options.stop?.length) body.stop = options.stop;
    if (n > 1) body.n = n;
    const payload = JSON.stringify(body);
    const purpose = options.purpose ?? 'completion';
    // One listener on the caller's signal per call, whatever the retries and waits inside it.
    const local = new AbortController();
    const onAbort = () => local.abort();
    if (options.signal?.aborted) local.abort();
    else options.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      return await this.#attempts(payload, purpose, local.signal);
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
    }
  }

  /** The request, retried on transient failures; `signal` aborts it and any wait between attempts. */
  async #attempts(payload: string, purpose: string, signal: AbortSignal): Promise<{ choices: ParsedChoice[]; usage: TokenUsage }> {
    let last: TeacherError | undefined;
    let sent = 0;
    // Tokens of replies that were answered but unusable (and so retried) still count.
    const wasted = { promptTokens: 0, completionTokens: 0 };
    // Every failure carries what was spent on it: the requests sent and the tokens reported.
    const spent = (e: TeacherError, attempts: number, message = e.message): TeacherError =>
      new TeacherError(e.kind, message, { status: e.status, attempts, usage: { ...wasted, requests: sent } });
    let attempt = 0;
    for (; attempt <= this.#maxRetries; attempt++) {
      if (signal.aborted) throw spent(new TeacherError('aborted', 'cancelled'), attempt);
      let waitHint: number | undefined;
      const started = Date.now();
      try {
        this.#emit({ type: 'request', purpose, attempt });
        const reply = await this.#limiter.run(() => {
          sent++;
          return this.#send(payload, signal);
        }, signal);
        this.#emit({ type: 'response', purpose, attempt, status: reply.status, ms: Date.now() - started });
        if (reply.status >= 200 && reply.status < 300) {
          const parsed = this.#parseBody(reply.text, sent);
          if (!(parsed instanceof TeacherError)) {
            parsed.usage.promptTokens += wasted.promptTokens;
            parsed.usage.completionTokens += wasted.completionTokens;
            return parsed;
          }
          wasted.promptTokens += parsed.usage?.promptTokens ?? 0;
          wasted.completionTokens += parsed.usage?.completionTokens ?? 0;
          last = parsed;
        } else {
          last = this.#httpError(reply, attempt + 1);
          if (!RETRY_STATUS.has(reply.status) && reply.status < 500) throw last;
          waitHint = retryAfterMs(reply.headers);
        }
      } catch (e) {
        if (e instanceof TeacherError && !isRetryable(e)) {
          if (e.kind !== 'aborted') this.#emit({ type: 'give-up', purpose, attempt, kind: e.kind, status: e.status, message: e.message });
          throw spent(e, attempt + 1);
        }
        last = e instanceof TeacherError ? e : this.#networkError(e, signal, attempt + 1);
        if (last.kind === 'aborted') throw spent(last, attempt + 1);
      }
      if (attempt === this.#maxRetries) break;
      let delay = backoffDelay(this.#backoff, attempt, this.#random);
      if (waitHint !== undefined) delay = Math.max(delay, Math.min(waitHint, this.#maxRetryAfterMs));
      this.#emit({ type: 'retry', purpose, attempt, kind: last.kind, status: last.status, delayMs: delay, message: last.message });
      try {
        await sleep(delay, signal);
      } catch {
        throw spent(new TeacherError('aborted', 'cancelled'), attempt + 1);
      }
    }
    const attempts = Math.min(attempt, this.#maxRetries) + 1;
    const final = spent(last!, attempts, `${last!.message} (gave up after ${attempts} attempt${attempts === 1 ? '' : 's'})`);
    this.#emit({ type: 'give-up', purpose, attempt: attempts - 1, kind: final.kind, status: final.status, message: final.message });
    throw final;
  }

  /** One HTTP exchange, the body read included, under the per-request timeout. */
  async #send(payload: string, signal?: AbortSignal): Promise<RawReply> {
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.#timeoutMs);
    const onAbort = () => controller.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
    if (this.#apiKey) headers.authorization = `Bearer ${this.#apiKey}`;
    try {
      const res = await this.#fetch(this.#url, { method: 'POST', headers, body: payload, signal: controller.signal });
      const text = await res.text();
      return { status: res.status, headers: res.headers, text };
    } catch (e) {
      if (signal?.aborted) throw new TeacherError('aborted', 'cancelled');
      if (timedOut) throw new TeacherError('timeout', `the teacher at ${this.endpoint} did not answer within ${this.#timeoutMs} ms`);
      throw e;
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
  }

  #parseBody(text: string, attempts: number): { choices: ParsedChoice[]; usage: TokenUsage } | TeacherError {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return new TeacherError('malformed', this.#scrub(`the teacher at ${this.endpoint} sent a reply that is not JSON: ${snippet(text)}`));
    }
    if (typeof json !== 'object' || json === null) {
      return new TeacherError('malformed', `the teacher at ${this.endpoint} sent JSON that is not a chat completion`);
    }
    const obj = json as { choices?: unknown; usage?: unknown; error?: unknown };
    const usage = parseUsage(obj.usage, attempts);
    if (obj.error !== undefined && obj.choices === undefined) {
      return new TeacherError('server', this.#scrub(`the teacher at ${this.endpoint} reported an error: ${errorText(obj)}`), { usage });
    }
    if (!Array.isArray(obj.choices) || obj.choices.length === 0) {
      return new TeacherError('no-choices', `the teacher at ${this.endpoint} sent a completion with no choices`, { usage });
    }
    const choices: ParsedChoice[] = [];
    for (const c of obj.choices as unknown[]) {
      const choice = c as { message?: { content?: unknown }; text?: unknown; finish_reason?: unknown } | null;
      const content = choice?.message?.content ?? choice?.text;
      if (typeof content !== 'string') {
        return new TeacherError('malformed', `the teacher at ${this.endpoint} sent a choice without message.content`, { usage });
      }
      const finish = choice?.finish_reason;
      choices.push({ text: content, finishReason: typeof finish === 'string' ? finish : 'stop' });
    }
    return { choices, usage };
  }

  #httpError(reply: RawReply, attempts: number): TeacherError {
    const s = reply.status;
    const detail = this.#scrub(serverMessage(reply.text));
    const suffix = detail ? `: ${detail}` : '';
    const at = `the teacher at ${this.endpoint}`;
    if (s === 401 || s === 403) {
      const keyNote = this.#apiKey ? 'refused the API key' : 'needs an API key (none was given)';
      return new TeacherError('auth', `${at} ${keyNote} (HTTP ${s})${suffix}`, { status: s, attempts });
    }
    if (s === 404) {
      return new TeacherError('not-found', `${at} has no chat-completions route or no model "${this.model}" (HTTP 404)${suffix}`, { status: s, attempts });
    }
    if (s === 429) return new TeacherError('rate-limited', `${at} is rate-limiting requests (HTTP 429)${suffix}`, { status: s, attempts });
    if (s >= 500 || RETRY_STATUS.has(s)) return new TeacherError('server', `${at} answered HTTP ${s}${suffix}`, { status: s, attempts });
    return new TeacherError('bad-request', `${at} refused the request (HTTP ${s})${suffix}`, { status: s, attempts });
  }

  #networkError(e: unknown, signal: AbortSignal | undefined, attempts: number): TeacherError {
    if (signal?.aborted || isAbortError(e)) return new TeacherError('aborted', 'cancelled', { attempts });
    return new TeacherError('unreachable', this.#scrub(`cannot reach the teacher at ${this.endpoint}: ${causeText(e)}`), { attempts });
  }

  #scrub(text: string): string {
    return redact(text, [this.#apiKey]);
  }

  #emit(event: TeacherLogEvent): void {
    if (!this.#log) return;
    if (event.message) event.message = this.#scrub(event.message);
    try {
      this.#log(event);
    } catch {
      // A failing logger must not fail the request.
    }
  }
}

function isRetryable(e: TeacherError): boolean {
  return ['unreachable', 'rate-limited', 'server', 'timeout', 'malformed', 'no-choices'].includes(e.kind);
}

/** Turns finish_reason 'length' / 'content_filter' into typed failures unless the caller allows them. */
export function checkFinish(choice: { finishReason: FinishReason }, usage: TokenUsage, options: CompleteOptions, endpoint: string): void {
  const purpose = options.purpose ? ` (${options.purpose})` : '';
  if (choice.finishReason === 'length' && !options.allowTruncated) {
    const limit = options.maxTokens !== undefined ? ` of ${options.maxTokens}` : '';
    throw new TeacherError('truncated', `the teacher at ${endpoint} hit the token limit${limit} before finishing${purpose}`, { usage });
  }
  if (choice.finishReason === 'content_filter') {
    throw new TeacherError('filtered', `the teacher at ${endpoint} withheld its answer (content filter)${purpose}`, { usage });
  }
}

function parseUsage(u: unknown, requests: number): TokenUsage {
  const obj = (typeof u === 'object' && u !== null ? u : {}) as Record<string, unknown>;
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : 0);
  return { promptTokens: num(obj.prompt_tokens), completionTokens: num(obj.completion_tokens), requests };
}

function snippet(text: string, max = 120): string {
  const s = text.replace(/\s+/g, ' ').trim();
  if (!s) return '(empty body)';
  return s.length > max ? s.slice(0, max) + '…' : s;
}

function errorText(obj: { error?: unknown }): string {
  const err = obj.error as { message?: unknown } | string | undefined;
  if (typeof err === 'string') return snippet(err, 300);
  if (err && typeof err.message === 'string') return snippet(err.message, 300);
  return snippet(JSON.stringify(err ?? ''), 300);
}

/** The server's own explanation from an error body: `error.message`, `message`, `detail`, or the text. */
function serverMessage(text: string): string {
  try {
    const j = JSON.parse(text) as { error?: unknown; message?: unknown; detail?: unknown };
    if (j && typeof j === 'object') {
      if (j.error !== undefined) return errorText(j);
      if (typeof j.message === 'string') return snippet(j.message, 300);
      if (typeof j.detail === 'string') return snippet(j.detail, 300);
    }
  } catch {
    // not JSON: fall through to the text
  }
  return text.trim() ? snippet(text, 300) : '';
}

/** The useful part of a fetch failure: Node puts it in `cause` (sometimes an AggregateError). */
function causeText(e: unknown): string {
  const parts: string[] = [];
  let cur: unknown = e;
  for (let depth = 0; cur && depth < 4; depth++) {
    const err = cur as { message?: unknown; code?: unknown; errors?: unknown; cause?: unknown };
    if (Array.isArray(err.errors) && err.errors.length > 0) {
      cur = err.errors[0];
      continue;
    }
    const msg = typeof err.message === 'string' ? err.message : '';
    if (msg && msg !== 'fetch failed' && !parts.includes(msg)) parts.push(msg);
    else if (!msg && typeof err.code === 'string') parts.push(err.code);
    cur = err.cause;
  }
  return parts.length ? parts[parts.length - 1] : e instanceof Error ? e.message : 'network error';
}
