import { inspect } from 'node:util';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { TeacherError } from '../../src/teacher/errors';
import { HttpTeacher, type HttpTeacherConfig, type TeacherLogEvent } from '../../src/teacher/http-teacher';
import { backoffDelay, retryAfterMs } from '../../src/teacher/limiter';
import { type FakeTeacher, type Reply, closedPort, completion, startFakeTeacher } from './fake-server';

const KEY = 'sk-test-Zq8VXk2mN4pW7rT1yL9s';
const messages = [{ role: 'user' as const, content: 'Problem: What is 2 + 2?' }];

/** Everything the client produced that a user or a file could see: scanned for the key at the end. */
const visible: string[] = [];
let server: FakeTeacher | undefined;

async function serve(script: (nth: number) => Reply | Promise<Reply>): Promise<FakeTeacher> {
  let i = 0;
  server = await startFakeTeacher(() => script(i++));
  return server;
}

function client(base: string, extra: Partial<HttpTeacherConfig> = {}): { teacher: HttpTeacher; log: TeacherLogEvent[] } {
  const log: TeacherLogEvent[] = [];
  const teacher = new HttpTeacher({
    baseUrl: base,
    model: 'teacher-test',
    apiKey: KEY,
    retryBaseMs: 5,
    retryMaxMs: 20,
    timeoutMs: 2000,
    maxRetries: 3,
    log: (e) => {
      log.push(e);
      visible.push(JSON.stringify(e));
    },
    ...extra,
  });
  visible.push(JSON.stringify(teacher), inspect(teacher, { showHidden: true, depth: 5 }), String(teacher));
  return { teacher, log };
}

async function failure(p: Promise<unknown>): Promise<TeacherError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(TeacherError);
    const te = e as TeacherError;
    visible.push(te.message, String(te), JSON.stringify(te), inspect(te), te.stack ?? '');
    return te;
  }
  throw new Error('expected the call to fail');
}

afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('HttpTeacher', () => {
  it('posts a chat completion with the key in the Authorization header only, and reads text, usage and finish reason', async () => {
    const s = await serve(() => completion('It is 4.', { prompt: 31, completion: 7 }));
    const { teacher } = client(s.baseUrl + '/');
    const c = await teacher.complete(messages, { temperature: 0.3, maxTokens: 64 });
    expect(c).toEqual({ text: 'It is 4.', finishReason: 'stop', usage: { promptTokens: 31, completionTokens: 7, requests: 1 } });
    const r = s.requests[0];
    expect(r.method).toBe('POST');
    expect(r.url).toBe('/v1/chat/completions');
    expect(r.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(r.url).not.toContain(KEY);
    expect(r.body).toEqual({ model: 'teacher-test', messages, temperature: 0.3, max_tokens: 64 });
    expect(teacher.endpoint).toBe(s.baseUrl);
  });

  it('accepts a base URL that already ends in /chat/completions, and sends no header without a key', async () => {
    const s = await serve(() => completion('ok'));
    const { teacher } = client(s.baseUrl + '/chat/completions', { apiKey: undefined });
    await teacher.complete(messages);
    expect(s.requests[0].url).toBe('/v1/chat/completions');
    expect(s.requests[0].headers.authorization).toBeUndefined();
  });

  it('refuses a base URL with credentials in it, without repeating them', () => {
    let message = '';
    try {
      new HttpTeacher({ baseUrl: `http://user:${KEY}@127.0.0.1:9/v1`, model: 'm' });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/must not contain credentials/);
    expect(message).not.toContain(KEY);
  });

  it('retries 500s and a dropped connection with backoff, then succeeds', async () => {
    const s = await serve((i) => (i === 0 ? { status: 500, json: { error: { message: 'overloaded' } } } : i === 1 ? { destroy: true } : i === 2 ? { status: 503, raw: 'busy' } : completion('fine')));
    const { teacher, log } = client(s.baseUrl);
    const c = await teacher.complete(messages, { purpose: 'plan' });
    expect(c.text).toBe('fine');
    expect(c.usage.requests).toBe(4);
    expect(s.requests).toHaveLength(4);
    const retries = log.filter((e) => e.type === 'retry');
    expect(retries.map((e) => e.kind)).toEqual(['server', 'unreachable', 'server']);
    expect(retries.every((e) => e.purpose === 'plan' && e.delayMs! >= 2)).toBe(true);
  });

  it('waits as long as Retry-After asks on 429', async () => {
    const s = await serve((i) => (i === 0 ? { status: 429, headers: { 'retry-after': '1' }, json: { error: { message: 'slow down' } } } : completion('ok')));
    const { teacher, log } = client(s.baseUrl);
    const t0 = Date.now();
    await teacher.complete(messages);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(950);
    expect(log.find((e) => e.type === 'retry')).toMatchObject({ kind: 'rate-limited', status: 429, delayMs: 1000 });
  });

  it('retries malformed JSON and a reply without choices; gives up with typed failures', async () => {
    let s = await serve((i) => (i === 0 ? { raw: '{"choices": [' } : i === 1 ? { json: { object: 'chat.completion' } } : completion('recovered')));
    let { teacher } = client(s.baseUrl);
    expect((await teacher.complete(messages)).text).toBe('recovered');
    await s.close();

    s = await serve(() => ({ raw: '<html>502 Bad Gateway</html>' }));
    ({ teacher } = client(s.baseUrl, { maxRetries: 2 }));
    let e = await failure(teacher.complete(messages));
    expect(e.kind).toBe('malformed');
    expect(e.attempts).toBe(3);
    expect(e.message).toMatch(/not JSON.*gave up after 3 attempts/);
    expect(s.requests).toHaveLength(3);
    await s.close();

    s = await serve(() => ({ json: { choices: [], usage: { prompt_tokens: 5, completion_tokens: 0 } } }));
    ({ teacher } = client(s.baseUrl, { maxRetries: 1 }));
    e = await failure(teacher.complete(messages));
    expect(e.kind).toBe('no-choices');
    expect(s.requests).toHaveLength(2);
  });

  it('times out a reply that never comes, retries, and reports a typed timeout when none ever comes', async () => {
    let s = await serve((i) => (i === 0 ? { hang: true } : completion('late but fine')));
    let { teacher } = client(s.baseUrl, { timeoutMs: 150 });
    const c = await teacher.complete(messages);
    expect(c.text).toBe('late but fine');
    expect(c.usage.requests).toBe(2);
    await s.close();

    s = await serve(() => ({ hang: true }));
    ({ teacher } = client(s.baseUrl, { timeoutMs: 100, maxRetries: 1 }));
    const e = await failure(teacher.complete(messages));
    expect(e.kind).toBe('timeout');
    expect(e.message).toMatch(/did not answer within 100 ms/);
    expect(s.requests).toHaveLength(2);
  });

  it('reports a truncated answer (finish_reason length) as a typed failure, with its usage, and does not retry it', async () => {
    const s = await serve(() => completion('Step 1: We start by', { finish: 'length', prompt: 40, completion: 16 }));
    const { teacher } = client(s.baseUrl);
    const e = await failure(teacher.complete(messages, { maxTokens: 16, purpose: 'execute' }));
    expect(e.kind).toBe('truncated');
    expect(e.message).toMatch(/token limit of 16.*execute/);
    expect(e.usage).toEqual({ promptTokens: 40, completionTokens: 16, requests: 1 });
    expect(s.requests).toHaveLength(1);
    const allowed = await teacher.complete(messages, { allowTruncated: true });
    expect(allowed.finishReason).toBe('length');
  });

  it('does not retry auth and bad-request errors, and scrubs the key even when the server echoes it', async () => {
    let s = await serve(() => ({ status: 401, json: { error: { message: `Incorrect API key provided: ${KEY}` } } }));
    let { teacher } = client(s.baseUrl);
    let e = await failure(teacher.complete(messages));
    expect(e.kind).toBe('auth');
    expect(e.fatal).toBe(true);
    expect(e.message).toContain('refused the API key (HTTP 401)');
    expect(e.message).toContain('[redacted]');
    expect(s.requests).toHaveLength(1);
    await s.close();

    s = await serve(() => ({ status: 400, raw: `bad request from key=${KEY}` }));
    ({ teacher } = client(s.baseUrl));
    e = await failure(teacher.complete(messages));
    expect(e.kind).toBe('bad-request');
    expect(e.fatal).toBe(false);
    expect(s.requests).toHaveLength(1);
    await s.close();

    s = await serve(() => ({ status: 404, json: { error: { message: 'model not found' } } }));
    ({ teacher } = client(s.baseUrl));
    e = await failure(teacher.complete(messages));
    expect(e.kind).toBe('not-found');
    expect(e.message).toContain('no model "teacher-test"');
  });

  it('says plainly when the endpoint cannot be reached', async () => {
    const port = await closedPort();
    const { teacher, log } = client(`http://127.0.0.1:${port}/v1`, { maxRetries: 2 });
    const e = await failure(teacher.complete(messages));
    expect(e.kind).toBe('unreachable');
    expect(e.fatal).toBe(true);
    expect(e.message).toMatch(new RegExp(`^cannot reach the teacher at http://127\\.0\\.0\\.1:${port}/v1: .*ECONNREFUSED`));
    expect(e.attempts).toBe(3);
    expect(log.filter((x) => x.type === 'request')).toHaveLength(3);
  });

  it('cancels a request in flight and a backoff wait through the AbortSignal', async () => {
    let s = await serve(() => ({ hang: true }));
    let { teacher } = client(s.baseUrl, { timeoutMs: 10_000 });
    const ac = new AbortController();
    const t0 = Date.now();
    setTimeout(() => ac.abort(), 50);
    let e = await failure(teacher.complete(messages, { signal: ac.signal }));
    expect(e.kind).toBe('aborted');
    expect(Date.now() - t0).toBeLessThan(1000);
    await s.close();

    s = await serve(() => ({ status: 503, raw: 'busy' }));
    ({ teacher } = client(s.baseUrl, { retryBaseMs: 10_000, retryMaxMs: 10_000 }));
    const ac2 = new AbortController();
    setTimeout(() => ac2.abort(), 50);
    e = await failure(teacher.complete(messages, { signal: ac2.signal }));
    expect(e.kind).toBe('aborted');
    expect(s.requests).toHaveLength(1);
  });

  it('keeps to its concurrency limit', async () => {
    let inFlight = 0;
    let most = 0;
    const s = await serve(async () => {
      most = Math.max(most, ++inFlight);
      await new Promise((r) => setTimeout(r, 40));
      inFlight--;
      return completion('ok');
    });
    const { teacher } = client(s.baseUrl, { concurrency: 2 });
    await Promise.all(Array.from({ length: 7 }, () => teacher.complete(messages)));
    expect(s.requests).toHaveLength(7);
    expect(most).toBe(2);
  });

  it('samples n in one request with nMode "param", or in n requests by default', async () => {
    let s = await serve(() => completion(['a', 'b', 'c'], { prompt: 10, completion: 9 }));
    let { teacher } = client(s.baseUrl, { nMode: 'param' });
    const set = await teacher.completeMany(messages, 3, { temperature: 0.8 });
    expect(set.samples.map((x) => x.text)).toEqual(['a', 'b', 'c']);
    expect(set.usage).toEqual({ promptTokens: 10, completionTokens: 9, requests: 1 });
    expect(s.requests[0].body.n).toBe(3);
    await s.close();

    s = await serve((i) => completion(`s${i}`, { prompt: 10, completion: 3 }));
    ({ teacher } = client(s.baseUrl));
    const rep = await teacher.completeMany(messages, 3, { temperature: 0.8 });
    expect(rep.samples.map((x) => x.text).sort()).toEqual(['s0', 's1', 's2']);
    expect(rep.usage).toEqual({ promptTokens: 30, completionTokens: 9, requests: 3 });
    expect(s.requests.every((r) => r.body.n === undefined)).toBe(true);
  });

  afterAll(() => {
    // The key must appear in no log event, error, message, serialisation or inspection of the client.
    expect(visible.length).toBeGreaterThan(30);
    for (const text of visible) expect(text).not.toContain(KEY);
  });
});

describe('backoff', () => {
  it('doubles up to the cap, with jitter between half and all of it', () => {
    const cfg = { baseMs: 100, maxMs: 1000 };
    expect([0, 1, 2, 3, 4, 5].map((a) => backoffDelay(cfg, a, () => 1))).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect(backoffDelay(cfg, 2, () => 0)).toBe(200);
  });

  it('reads Retry-After as seconds, as an HTTP date, and retry-after-ms', () => {
    expect(retryAfterMs(new Headers({ 'retry-after': '3' }))).toBe(3000);
    expect(retryAfterMs(new Headers({ 'retry-after-ms': '250' }))).toBe(250);
    const now = Date.parse('2025-01-01T00:00:00Z');
    expect(retryAfterMs(new Headers({ 'retry-after': 'Wed, 01 Jan 2025 00:00:05 GMT' }), now)).toBe(5000);
    expect(retryAfterMs(new Headers({}))).toBeUndefined();
    expect(retryAfterMs(new Headers({ 'retry-after': 'soon' }))).toBeUndefined();
  });
});
