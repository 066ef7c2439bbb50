// End to end: the synth CLI, spawned as a user runs it (`npx tsx src/cli/synth.ts ...`), against the
// scripted teacher on loopback. The first test goes through npx exactly so; the others start the same
// script with `node --import tsx`, which skips npx's and tsx's launcher processes (seconds per run on a
// loaded machine).

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { Trajectory } from '../../src/data/trajectory';
import { goldFrom } from '../../src/teacher/questions';
import { type FakeTeacher, type Script, closedPort, goodTeacher, startFakeTeacher } from './fake-server';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const GSM8K_TRAIN = fileURLToPath(new URL('../../../shared/data/gsm8k/train.jsonl', import.meta.url));
const KEY = 'sk-cli-test-Hq3Vb8Nx2Lp5Rz7W';
const dir = mkdtempSync(join(tmpdir(), 'plantune-synth-'));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

interface SynthOptions {
  env?: Record<string, string>;
  onStderr?: (all: string, child: ChildProcess) => void;
  /** Run through `npx tsx` as in the docs (default: `node --import tsx`, the same code, faster). */
  viaNpx?: boolean;
}

function synth(args: string[], options: SynthOptions = {}): Promise<Run> {
  const [command, prefix] = options.viaNpx ? ['npx', ['tsx']] : [process.execPath, ['--import', 'tsx']];
  return new Promise((resolve, reject) => {
    const child = spawn(command, [...prefix, 'src/cli/synth.ts', ...args], {
      cwd: ROOT,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // its own process group, so a test can kill npx, tsx and node together
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
      options.onStderr?.(stderr, child);
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function readRows(path: string): Trajectory[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Trajectory);
}

const indexOf = (t: Trajectory) => (t.meta as { questionIndex: number }).questionIndex;

const QUESTIONS = Array.from({ length: 6 }, (_, i) => ({ question: `Tom has ${i} boxes of ${i + 2} pens. How many pens? (#${i})`, answer: `He has ${i * (i + 2)} pens.\n#### ${i * (i + 2)}` }));
const questionsFile = join(dir, 'questions.jsonl');
writeFileSync(questionsFile, QUESTIONS.map((q) => JSON.stringify(q)).join('\n') + '\n');
const GOLDS = new Map(QUESTIONS.map((q) => [q.question, goldFrom(q.answer)!.text]));

const servers: FakeTeacher[] = [];
async function serve(script: Script): Promise<FakeTeacher> {
  const s = await startFakeTeacher(script);
  servers.push(s);
  return s;
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function requestsPerQuestion(s: FakeTeacher): number[] {
  const counts = s.countsByQuestion();
  return QUESTIONS.map((q) => counts.get(q.question) ?? 0);
}

describe('synth CLI', () => {
  it('turns GSM8K train questions into Plantune trajectories and never shows the key', async () => {
    const lines = readFileSync(GSM8K_TRAIN, 'utf8').split('\n').slice(0, 3).map((l) => JSON.parse(l) as { question: string; answer: string });
    const golds = new Map(lines.map((l) => [l.question, goldFrom(l.answer)!.text]));
    const s = await serve(goodTeacher(golds, { wrong: (q) => q === lines[2].question }));
    const out = join(dir, 'gsm8k.jsonl');
    const run = await synth(
      ['--questions', GSM8K_TRAIN, '--endpoint', s.baseUrl, '--model', 'teacher-test', '--method', 'plan', '--n', '2', '--out', out, '--limit', '3', '--api-key-env', 'SYNTH_TEST_KEY'],
      { env: { SYNTH_TEST_KEY: KEY }, viaNpx: true },
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/synth: done: questions 3\/3 · correct 2 · failed 0 · trajectories 3 .* tokens [\d,]+ \(prompt [\d,]+, completion [\d,]+\) in 15 requests/);
    expect(run.stderr).toMatch(/synth: 3\/3 · correct 2 · failed 0 · [\d,]+ tokens/);
    const rows = readRows(out);
    expect(rows.map(indexOf)).toEqual([0, 1, 2]);
    expect(rows.map((t) => t.question)).toEqual(lines.map((l) => l.question));
    expect(rows.map((t) => t.rewards?.answerCorrectness)).toEqual([1, 1, 0]);
    expect(rows[0]).toMatchObject({ source: 'plantune', finalAnswer: { text: '72', value: 72 }, meta: { method: 'plan-best-of-n', teacher: { model: 'teacher-test' }, sft: true } });
    expect(s.requests.every((r) => r.headers.authorization === `Bearer ${KEY}`)).toBe(true);
    const sidecar = readFileSync(`${out}.job.json`, 'utf8');
    expect(JSON.parse(sidecar).job).toMatchObject({ status: 'done', counters: { done: 3, correct: 2 } });
    for (const text of [run.stdout, run.stderr, readFileSync(out, 'utf8'), sidecar]) expect(text).not.toContain(KEY);
  });

  it('resumes without asking again, and with the endpoint down exits non-zero keeping the partial output', async () => {
    const s = await serve(goodTeacher(GOLDS));
    const out = join(dir, 'resume.jsonl');
    const base = ['--questions', questionsFile, '--model', 'teacher-test', '--method', 'subq', '--n', '1', '--out', out, '--retry-base-ms', '10'];

    const first = await synth([...base, '--endpoint', s.baseUrl, '--limit', '2']);
    expect(first.code, first.stderr).toBe(0);
    const partial = readFileSync(out, 'utf8');
    expect(readRows(out).map(indexOf)).toEqual([0, 1]);
    expect(requestsPerQuestion(s)).toEqual([2, 2, 0, 0, 0, 0]);

    const noResume = await synth([...base, '--endpoint', s.baseUrl]);
    expect(noResume.code).toBe(2);
    expect(noResume.stderr).toContain('holds an earlier job: add --resume to continue it, or --force to start over');

    const port = await closedPort();
    const down = await synth([...base, '--endpoint', `http://127.0.0.1:${port}/v1`, '--resume', '--max-retries', '1']);
    expect(down.code).toBe(1);
    expect(down.stderr).toContain(`synth: stopped: cannot reach the teacher at http://127.0.0.1:${port}/v1: `);
    expect(down.stderr).toContain(`2 of 6 questions are done and kept in ${out}; run the same command with --resume to continue`);
    expect(readFileSync(out, 'utf8')).toBe(partial);

    const rest = await synth([...base, '--endpoint', s.baseUrl, '--resume']);
    expect(rest.code, rest.stderr).toBe(0);
    expect(rest.stderr).toContain('2 of 6 questions already done, 4 to go');
    expect(requestsPerQuestion(s)).toEqual([2, 2, 2, 2, 2, 2]);
    const rows = readRows(out);
    expect(rows.map(indexOf)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(rows.every((t) => t.rewards?.answerCorrectness === 1)).toBe(true);
  });

  it('survives being killed mid-run: the resumed run asks nothing again about questions already written', async () => {
    const s = await serve(async (r) => {
      await new Promise((res) => setTimeout(res, 60));
      return goodTeacher(GOLDS)(r);
    });
    const out = join(dir, 'killed.jsonl');
    const args = ['--questions', questionsFile, '--endpoint', s.baseUrl, '--model', 'teacher-test', '--method', 'subq', '--out', out, '--concurrency', '1', '--progress-ms', '0'];
    let killed = false;
    await synth(args, {
      onStderr: (all, child) => {
        if (!killed && /synth: 2\/6 /.test(all)) {
          killed = true;
          process.kill(-child.pid!, 'SIGKILL');
        }
      },
    });
    expect(killed).toBe(true);
    const written = readRows(out).map(indexOf);
    expect(written.length).toBeGreaterThanOrEqual(2);
    expect(written.length).toBeLessThan(6);
    const before = requestsPerQuestion(s);

    const resumed = await synth([...args, '--resume']);
    expect(resumed.code, resumed.stderr).toBe(0);
    const after = requestsPerQuestion(s);
    for (const i of written) expect(after[i], `question ${i} was asked again`).toBe(before[i]);
    expect(readRows(out).map(indexOf)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('explains usage errors and exits 2', async () => {
    const run = await synth(['--questions', questionsFile, '--method', 'plan']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('synth: missing --endpoint, --model, --out');
    expect(run.stderr).toContain('Run with --help for usage.');
  });
});
