// A scripted OpenAI-compatible chat-completions server on loopback (127.0.0.1, port 0) for the teacher
// tests. Each request is parsed (which prompt it is, which question it is about) and answered by the
// test's script: a completion, an error status, a malformed body, a reply that never comes, or a
// dropped connection.

import { type IncomingHttpHeaders, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Purpose = 'plan' | 'judge' | 'execute' | 'decompose' | 'answer' | 'other';

export interface SeenRequest {
  /** 0-based over the server's life. */
  seq: number;
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: {
    model?: string;
    messages?: { role: string; content: string }[];
    temperature?: number;
    max_tokens?: number;
    n?: number;
  };
  purpose: Purpose;
  /** The question the prompt is about (the text after "Problem: "). */
  question?: string;
  /** The text after "Plan:" / "Sub-questions:" in the prompt, if any. */
  plan?: string;
  /** How many requests of this purpose about this question came before this one. */
  nth: number;
}

export type Reply =
  | { json: unknown; status?: number; headers?: Record<string, string>; delayMs?: number }
  | { raw: string; status?: number; headers?: Record<string, string>; delayMs?: number }
  /** Never answer (until the server closes). */
  | { hang: true }
  /** Drop the connection without an answer. */
  | { destroy: true };

export type Script = (req: SeenRequest) => Reply | Promise<Reply>;

export interface FakeTeacher {
  /** Base URL to give the client: http://127.0.0.1:PORT/v1 */
  baseUrl: string;
  port: number;
  requests: SeenRequest[];
  script: Script;
  /** Requests per question text. */
  countsByQuestion(): Map<string, number>;
  /** Stops listening and drops every open connection. */
  close(): Promise<void>;
}

export function completion(text: string | string[], opts: { finish?: string; prompt?: number; completion?: number } = {}): { json: unknown } {
  const texts = Array.isArray(text) ? text : [text];
  return {
    json: {
      id: 'chatcmpl-test',
      object: 'chat.completion',
      model: 'teacher-test',
      choices: texts.map((t, i) => ({ index: i, message: { role: 'assistant', content: t }, finish_reason: opts.finish ?? 'stop' })),
      usage: {
        prompt_tokens: opts.prompt ?? 20,
        completion_tokens: opts.completion ?? 10,
        total_tokens: (opts.prompt ?? 20) + (opts.completion ?? 10),
      },
    },
  };
}

function purposeOf(content: string): Purpose {
  if (content.includes('Write a plan for solving')) return 'plan';
  if (content.includes('Grade the plan')) return 'judge';
  if (content.includes('by carrying out the plan')) return 'execute';
  if (content.includes('Break the problem below into the sub-questions')) return 'decompose';
  if (content.includes('Answer the sub-questions in order')) return 'answer';
  return 'other';
}

export async function startFakeTeacher(script: Script): Promise<FakeTeacher> {
  const requests: SeenRequest[] = [];
  const nth = new Map<string, number>();
  const sockets = new Set<import('node:net').Socket>();
  const fake = { requests, script } as FakeTeacher;

  const server: Server = createServer((req, res) => {
    // A page calls the teacher from another origin (the worker's fetch): answer the CORS preflight,
    // which is not a request to the teacher and is not counted.
    if (req.method === 'OPTIONS') {
      res.writeHead(204, { ...CORS, 'access-control-max-age': '600' });
      res.end();
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        let body: SeenRequest['body'] = {};
        try {
          body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as SeenRequest['body'];
        } catch {
          // leave empty: the script sees purpose 'other'
        }
        const user = body.messages?.filter((m) => m.role === 'user').map((m) => m.content).join('\n') ?? '';
        const purpose = purposeOf(user);
        const question = /Problem: ([\s\S]*?)(?:\n\n|$)/.exec(user)?.[1];
        const plan = /(?:Plan|Sub-questions):\n([\s\S]*?)(?:\n\n|$)/.exec(user)?.[1];
        const key = `${purpose}\u0000${question ?? ''}`;
        const count = nth.get(key) ?? 0;
        nth.set(key, count + 1);
        const seen: SeenRequest = { seq: requests.length, method: req.method ?? '', url: req.url ?? '', headers: req.headers, body, purpose, question, plan, nth: count };
        requests.push(seen);
        let reply: Reply;
        try {
          reply = await fake.script(seen);
        } catch (e) {
          reply = { status: 500, json: { error: { message: `script failed: ${String(e)}` } } };
        }
        send(res, reply);
      })();
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  fake.port = port;
  fake.baseUrl = `http://127.0.0.1:${port}/v1`;
  fake.countsByQuestion = () => {
    const m = new Map<string, number>();
    for (const r of requests) if (r.question !== undefined) m.set(r.question, (m.get(r.question) ?? 0) + 1);
    return m;
  };
  fake.close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const s of sockets) s.destroy();
    });
  return fake;
}

/** Lets a page on any origin call the fake teacher, with a key in the Authorization header. */
const CORS = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'POST, OPTIONS',
  'access-control-allow-headers': 'content-type, accept, authorization',
};

function send(res: ServerResponse, reply: Reply): void {
  if ('hang' in reply) return;
  if ('destroy' in reply) {
    res.socket?.destroy();
    return;
  }
  const write = () => {
    if (res.destroyed) return;
    const body = 'json' in reply ? JSON.stringify(reply.json) : reply.raw;
    res.writeHead(reply.status ?? 200, { ...CORS, 'content-type': 'json' in reply ? 'application/json' : 'text/plain', ...reply.headers });
    res.end(body);
  };
  if (reply.delayMs) setTimeout(write, reply.delayMs);
  else write();
}

/** A port nothing listens on (a server is opened on it, then closed). */
export async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/**
 * A well-behaved teacher for questions with known answers: numbered plans and sub-questions,
 * "Score: s" from the judge, and the gold answer (or `wrong(question)` when it says so) at the end.
 */
export function goodTeacher(golds: Map<string, string>, options: { wrong?: (question: string) => boolean; score?: (plan: string) => number } = {}): Script {
  return (r) => {
    const q = r.question ?? '';
    const gold = golds.get(q) ?? '0';
    const answer = options.wrong?.(q) ? String(Number(gold.replace(/,/g, '')) + 1) : gold;
    switch (r.purpose) {
      case 'plan':
        return completion(`Step 1: Find the quantities given (variant ${r.nth}).\nStep 2: Combine them to get what is asked.`);
      case 'judge':
        return completion(`The plan covers the constraints.\nScore: ${options.score?.(r.plan ?? '') ?? 50}`, { completion: 12 });
      case 'execute':
        return completion(`Step 1: We read the numbers.\nStep 2: We combine them.\nFinal answer: ${answer}`, { completion: 30 });
      case 'decompose':
        return completion(`Q1: What is given (variant ${r.nth})?\nQ2: What is the answer?`);
      case 'answer':
        return completion(`A1: The numbers are read.\nA2: They combine to ${answer}.\n\nFinal answer: ${answer}`, { completion: 25 });
      default:
        return { status: 400, json: { error: { message: 'unexpected prompt' } } };
    }
  };
}
