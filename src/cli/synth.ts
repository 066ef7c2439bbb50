// Teacher distillation from the command line: plain questions in, Plantune planning trajectories out.
//
//   npx tsx src/cli/synth.ts --questions ../shared/data/gsm8k/train.jsonl --endpoint http://127.0.0.1:8000/v1 \
//     --model Qwen2.5-72B-Instruct --method plan --n 5 --out out/gsm8k-plans.jsonl
//
// State is kept in `<out>.job.json` after every question: run the same command with --resume after an
// interruption and no finished question is sent to the teacher again. See docs/teacher.md.

import { EventEmitter } from 'node:events';
import { promises as fs } from 'node:fs';
import { parseArgs } from 'node:util';
import { HttpTeacher, type TeacherLogEvent } from '../teacher/http-teacher';
import { JobController, type JobProgress, JobInputError, createJob, jobSettings, runJob, settingsMismatch } from '../teacher/job';
import { DEFAULT_SAMPLING, type MethodName } from '../teacher/methods';
import { type PromptSet, validatePrompts, withPrompts } from '../teacher/prompts';
import { parseQuestionsJsonl } from '../teacher/questions';
import type { JobRecord } from '../teacher/store';
import { FileJobStore } from '../teacher/node/file-job-store';
import { totalTokens } from '../teacher/types';

const USAGE = `Usage: npx tsx src/cli/synth.ts --questions FILE --endpoint URL --model NAME --method plan|subq --out FILE [options]

Turns plain questions into Plantune planning trajectories with a teacher model behind an
OpenAI-compatible chat-completions endpoint.

Required:
  --questions FILE       JSONL of {"question", "answer"} (GSM8K: the gold answer is the "#### x" line)
  --endpoint URL         base URL of the API, e.g. http://127.0.0.1:8000/v1 or https://api.openai.com/v1
  --model NAME           the teacher model
  --method plan|subq     plan: Plan-Tuning best-of-n (n plans, judged, the best one carried out)
                         subq: sub-questions Q1..Qn answered as A1..An (arXiv 2402.01812)
  --out FILE             Plantune JSONL, one trajectory per line; job state goes to FILE.job.json

Options:
  --n N                  plans to judge (plan, default 5) or decompositions per question (subq, default 1)
  --temperature T        temperature of those samples (default ${DEFAULT_SAMPLING.temperature})
  --max-tokens N         token limit of each generation (default ${DEFAULT_SAMPLING.maxTokens})
  --api-key-env VAR      environment variable that holds the API key (default OPENAI_API_KEY)
  --concurrency N        questions and requests in flight (default 4)
  --limit N              only the first N questions of the file
  --resume               continue the job recorded in FILE.job.json
  --retry-failed         with --resume, also redo questions that failed for lasting reasons
  --force                start over: delete FILE and FILE.job.json first
  --prompts FILE         JSON with prompt templates replacing the defaults (docs/teacher.md)
  --n-mode repeat|param  n samples as n requests (default) or as one request with "n"
  --timeout-ms N         per-request timeout (default 120000)
  --max-retries N        retries of a failed request (default 5)
  --retry-base-ms N      first retry delay, doubled each time (default 500)
  --progress-ms N        least time between progress lines (default 1000)
  -h, --help             this text

Exit status: 0 finished, 1 stopped by an error (the work done is kept), 2 usage error, 130 interrupted.`;

class UsageError extends Error {}

function say(line: string): void {
  process.stderr.write(`synth: ${line}\n`);
}

function intOption(values: Record<string, unknown>, name: string, fallback: number, min = 1): number {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (!Number.isInteger(v) || v < min) throw new UsageError(`--${name} must be an integer >= ${min}, got "${String(raw)}"`);
  return v;
}

function numberOption(values: Record<string, unknown>, name: string, fallback: number, min: number, max: number): number {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (!Number.isFinite(v) || v < min || v > max) throw new UsageError(`--${name} must be a number from ${min} to ${max}, got "${String(raw)}"`);
  return v;
}

function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

const fmt = (n: number) => n.toLocaleString('en-US');

async function exists(path: string): Promise<boolean> {
  return fs.access(path).then(
    () => true,
    () => false,
  );
}

async function readPrompts(path: string): Promise<PromptSet> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await fs.readFile(path, 'utf8'));
  } catch (e) {
    throw new UsageError(`cannot read --prompts ${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (typeof parsed !== 'object' || parsed === null) throw new UsageError(`--prompts ${path} must hold a JSON object`);
  const prompts = withPrompts(parsed as Partial<PromptSet>);
  const problems = validatePrompts(prompts);
  if (problems.length) throw new UsageError(`--prompts ${path}: ${problems.join('; ')}`);
  return prompts;
}

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        questions: { type: 'string' },
        endpoint: { type: 'string' },
        model: { type: 'string' },
        method: { type: 'string' },
        out: { type: 'string' },
        n: { type: 'string' },
        temperature: { type: 'string' },
        'max-tokens': { type: 'string' },
        'api-key-env': { type: 'string' },
        concurrency: { type: 'string' },
        limit: { type: 'string' },
        resume: { type: 'boolean' },
        'retry-failed': { type: 'boolean' },
        force: { type: 'boolean' },
        prompts: { type: 'string' },
        'n-mode': { type: 'string' },
        'timeout-ms': { type: 'string' },
        'max-retries': { type: 'string' },
        'retry-base-ms': { type: 'string' },
        'progress-ms': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    throw new UsageError(e instanceof Error ? e.message : String(e));
  }
  const v = parsed.values;
  if (v.help) {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  const missing = (['questions', 'endpoint', 'model', 'method', 'out'] as const).filter((k) => !v[k]);
  if (missing.length) throw new UsageError(`missing ${missing.map((k) => `--${k}`).join(', ')}`);
  const method = v.method as MethodName;
  if (method !== 'plan' && method !== 'subq') throw new UsageError(`--method must be plan or subq, got "${v.method}"`);
  const nMode = (v['n-mode'] ?? 'repeat') as 'repeat' | 'param';
  if (nMode !== 'repeat' && nMode !== 'param') throw new UsageError(`--n-mode must be repeat or param, got "${v['n-mode']}"`);
  if (v.resume && v.force) throw new UsageError('--resume and --force contradict each other: choose one');
  const n = intOption(v, 'n', method === 'plan' ? 5 : 1);
  const temperature = numberOption(v, 'temperature', DEFAULT_SAMPLING.temperature, 0, 2);
  const maxTokens = intOption(v, 'max-tokens', DEFAULT_SAMPLING.maxTokens);
  const concurrency = intOption(v, 'concurrency', 4);
  const limit = v.limit === undefined ? undefined : intOption(v, 'limit', 0);
  const timeoutMs = intOption(v, 'timeout-ms', 120_000);
  const maxRetries = intOption(v, 'max-retries', 5, 0);
  const retryBaseMs = intOption(v, 'retry-base-ms', 500, 0);
  const progressMs = intOption(v, 'progress-ms', 1000, 0);
  const keyVar = v['api-key-env'] ?? 'OPENAI_API_KEY';
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(keyVar)) throw new UsageError(`--api-key-env must name an environment variable, got "${keyVar}"`);
  const apiKey = process.env[keyVar] || undefined;
  const prompts = v.prompts ? await readPrompts(v.prompts) : undefined;
  const out = v.out!;

  // Questions.
  let text: string;
  try {
    text = await fs.readFile(v.questions!, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read --questions ${v.questions}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  const file = parseQuestionsJsonl(text);
  for (const r of file.rejected.slice(0, 10)) say(`skipping ${v.questions} line ${r.line}: ${r.reason}`);
  if (file.rejected.length > 10) say(`skipping ${file.rejected.length - 10} more bad lines`);
  if (file.questions.length === 0) throw new UsageError(`${v.questions} has no usable question (expected JSONL rows {"question", "answer"})`);
  const questions = limit !== undefined ? file.questions.slice(0, limit) : file.questions;

  // Teacher.
  let teacher: HttpTeacher;
  try {
    teacher = new HttpTeacher({
      baseUrl: v.endpoint!,
      model: v.model!,
      apiKey,
      concurrency,
      timeoutMs,
      maxRetries,
      retryBaseMs,
      nMode,
      log: (e: TeacherLogEvent) => {
        if (e.type === 'retry') say(`retrying a request (${e.purpose}) in ${(e.delayMs! / 1000).toFixed(1)}s: ${e.message}`);
      },
    });
  } catch (e) {
    throw new UsageError(`--endpoint/--model: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (!apiKey) say(`no API key in $${keyVar}: sending requests without one`);

  // Each request of a question listens to the question's abort signal; with large n there are many.
  EventEmitter.defaultMaxListeners = Math.max(EventEmitter.defaultMaxListeners, 2 * n + 10);

  const settings = jobSettings({
    method,
    teacher,
    sampling: { n, temperature, maxTokens },
    prompts,
    concurrency,
  });

  // Job: new, or resumed from the sidecar.
  const sidecar = FileJobStore.sidecarPath(out);
  if (v.force) {
    await fs.rm(out, { force: true });
    await fs.rm(sidecar, { force: true });
  }
  const hasSidecar = await exists(sidecar);
  if (hasSidecar && !v.resume) {
    throw new UsageError(`${sidecar} holds an earlier job: add --resume to continue it, or --force to start over`);
  }
  if (!hasSidecar && (await exists(out))) {
    throw new UsageError(`${out} exists and is not a job of this tool's: choose another --out, or --force to overwrite it`);
  }
  let store: FileJobStore;
  try {
    store = await FileJobStore.open(out);
  } catch (e) {
    throw new UsageError(e instanceof Error ? e.message : String(e));
  }
  let job: JobRecord;
  const saved = store.job;
  if (saved) {
    const diff = settingsMismatch(saved.settings, settings);
    if (diff.length) throw new UsageError(`cannot resume ${sidecar} with different settings:\n  ${diff.join('\n  ')}`);
    job = { ...saved, settings: { ...saved.settings, teacher: settings.teacher, concurrency, maxConsecutiveFailures: settings.maxConsecutiveFailures } };
  } else {
    if (v.resume) say(`nothing to resume at ${sidecar}: starting a new job`);
    job = createJob({ settings, total: questions.length, source: v.questions });
  }

  const samplesNote = method === 'plan' ? `best of ${n}` : `${n} decomposition${n === 1 ? '' : 's'}`;
  say(
    `job ${job.id}: ${method} (${samplesNote}, temperature ${temperature}), teacher ${teacher.model} at ${teacher.endpoint}; ` +
      `${questions.length} questions -> ${out}`,
  );

  // Progress, interruption.
  const controller = new JobController();
  let interrupts = 0;
  let firstInterrupt = 0;
  const onSigint = () => {
    // Under tsx/npx one Ctrl-C can arrive twice (from the terminal and relayed by the parent): an
    // interrupt within a second of the first is the same one.
    if (interrupts > 0 && Date.now() - firstInterrupt < 1000) return;
    interrupts++;
    if (interrupts === 1) {
      firstInterrupt = Date.now();
      say('pausing: finishing the questions in flight (Ctrl-C again to stop at once)');
      controller.pause();
    } else {
      controller.cancel();
    }
  };
  const onSigterm = () => controller.cancel();
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigterm);

  let lastLine = 0;
  const onProgress = (p: JobProgress) => {
    if (p.event === 'start') {
      say(`${p.done} of ${p.total} questions already done, ${p.total - p.done} to go`);
      return;
    }
    if (p.event === 'question' && p.failure) {
      say(`question ${p.questionIndex} failed (${p.failure.kind}${p.failure.retryable ? ', will be retried on --resume' : ''}): ${p.failure.message}`);
    }
    if (p.event === 'end') return; // the summary follows
    const now = Date.now();
    if (p.event === 'question' && now - lastLine < progressMs && p.done < p.total) return;
    lastLine = now;
    const eta = p.etaMs !== undefined && p.done < p.total ? ` · ETA ${duration(p.etaMs)}` : '';
    const rate = p.perMinute !== undefined ? ` · ${p.perMinute.toFixed(1)}/min` : '';
    say(`${p.done}/${p.total} · correct ${p.correct} · failed ${p.failed} · ${fmt(totalTokens(p.usage))} tokens${rate}${eta}`);
  };

  const started = Date.now();
  let outcome;
  try {
    outcome = await runJob({ job, questions, teacher, store, controller, onProgress, retryFailed: v['retry-failed'] === true });
  } catch (e) {
    if (e instanceof JobInputError) throw new UsageError(e.message);
    throw e;
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigterm);
  }
  if (outcome.status === 'done') await store.sortOutput();

  const c = outcome.job.counters;
  const u = c.usage;
  const summary =
    `${outcome.status}: questions ${c.done}/${outcome.job.total} · correct ${c.correct} · failed ${c.failed} · ` +
    `trajectories ${c.trajectories} (${c.correctTrajectories} correct, for SFT) · tokens ${fmt(totalTokens(u))} ` +
    `(prompt ${fmt(u.promptTokens)}, completion ${fmt(u.completionTokens)}) in ${fmt(u.requests)} requests · ${duration(Date.now() - started)}`;
  process.stdout.write(`synth: ${summary}\n`);
  if (outcome.status === 'done') {
    process.stdout.write(`synth: wrote ${out}\n`);
    return 0;
  }
  const kept = `${c.done} of ${outcome.job.total} questions are done and kept in ${out}; run the same command with --resume to continue`;
  if (outcome.status === 'stopped') {
    say(`stopped: ${outcome.error}`);
    say(kept);
    return 1;
  }
  say(`${outcome.status}. ${kept}`);
  return 130;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    if (e instanceof UsageError) {
      say(e.message);
      process.stderr.write(`Run with --help for usage.\n`);
      process.exitCode = 2;
    } else {
      say(`error: ${e instanceof Error ? e.message : String(e)}`);
      process.exitCode = 1;
    }
  },
);
