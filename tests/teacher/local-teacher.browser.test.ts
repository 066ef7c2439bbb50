// A local teacher end to end, in the trainer worker on WebGPU: a tiny model stored in IndexedDB runs
// a 3-question plan job through KV-cache generation, and the job records what it said, scored
// against the gold answers, with the real token counts.
//
// The model is a random Llama (N(0, 0.02) weights) with one thing planted so that its greedy and
// sampled text is readable by the teacher's parsers: its embeddings and LM head make the next token
// a function of the current one along the chain "\n" -> "1. Sum=7" -> end of sequence (each
// character of the chain appears once, so the chain is unambiguous). After any chat prompt (which
// ends with "<|assistant|>\n") it answers "1. Sum=7": a one-step plan, and a final answer of 7.
// So the question whose gold answer is 7 comes out correct and the others wrong.
import * as Comlink from 'comlink';
import { afterAll, describe, expect, it } from 'vitest';
import { BYTE_TOKEN_OFFSET, byteLevelTokenizerConfig, byteLevelTokenizerJson } from '../../src/data/tokenizer/byte-level';
import { tinyLlama } from '../../src/model/config';
import { exportHfModel } from '../../src/model/hf-weights';
import { initParams } from '../../src/model/init';
import { paramLayout, tensorSpec, view } from '../../src/model/param-layout';
import { deleteDataset, getTrajectories } from '../../src/store/datasets';
import { openPlantuneDb } from '../../src/store/db';
import { deleteModel, putModel } from '../../src/store/models';
import { DEFAULT_PROMPTS, renderPrompt } from '../../src/teacher/prompts';
import type { ChatMessage } from '../../src/teacher/types';
import type { TeacherEvent, TrainerApi } from '../../src/worker/api';

const worker = new Worker(new URL('../../src/worker/trainer.worker.ts', import.meta.url), { type: 'module' });
const api = Comlink.wrap<TrainerApi>(worker);
const db = await openPlantuneDb();
const MODEL_ID = `local-teacher-test-${Date.now()}`;
const cleanup: (() => Promise<unknown>)[] = [() => deleteModel(db, MODEL_ID)];

afterAll(async () => {
  for (const c of cleanup) await c();
  db.close();
  api[Comlink.releaseProxy]();
  worker.terminate();
});

const ANSWER = '1. Sum=7';
const EOS_ID = 2;
const byteId = (ch: string) => BYTE_TOKEN_OFFSET + ch.charCodeAt(0);

/** A random tiny Llama whose next token follows the chain "\n" + ANSWER -> EOS (see the top of the file). */
function chainModel() {
  const cfg = tinyLlama({ V: 260, C: 64, F: 96, L: 2, NH: 4, NKV: 2, maxT: 1280 });
  const layout = paramLayout(cfg);
  const params = initParams(layout, 11);
  const wte = view(params, tensorSpec(layout, 'wte'));
  const head = view(params, tensorSpec(layout, 'lm_head.w'));
  const chain = ['\n', ...ANSWER].map(byteId);
  chain.forEach((id, k) => {
    const next = k + 1 < chain.length ? chain[k + 1] : EOS_ID;
    wte.fill(0, id * cfg.C, (id + 1) * cfg.C);
    wte[id * cfg.C + k] = 1; // token `id` gets its own direction k in the residual stream
    head[next * cfg.C + k] = 3; // and direction k votes for the token after it
  });
  return { cfg, files: exportHfModel(layout, params) };
}

/** Tokens of a chat prompt under the byte-level chat template: BOS, then one token per UTF-8 byte. */
function chatTokens(messages: ChatMessage[]): number {
  const text = messages.map((m) => `<|${m.role}|>\n${m.content}\n`).join('') + '<|assistant|>\n';
  return 1 + new TextEncoder().encode(text).length;
}

const QUESTIONS = [
  { question: 'Tom has 3 apples and buys 4 more. How many apples does he have?', answer: '3 + 4 = 7\n#### 7' },
  { question: 'A box holds 6 pens. How many pens are in 2 boxes?', answer: '6 * 2 = 12\n#### 12' },
  { question: 'Sara reads 5 pages a day for 3 days. How many pages does she read?', answer: '5 * 3 = 15\n#### 15' },
];

describe('a local teacher in the worker', () => {
  it('runs a 3-question plan job with a stored model: answers scored against the gold ones, real token counts', async () => {
    const { cfg, files } = chainModel();
    await putModel(db, { id: MODEL_ID, name: 'tiny chain teacher', config: JSON.parse(files.configJson) }, {
      'config.json': new Blob([files.configJson]),
      'model.safetensors': files.safetensors,
      'tokenizer.json': new Blob([JSON.stringify(byteLevelTokenizerJson())]),
      'tokenizer_config.json': new Blob([JSON.stringify(byteLevelTokenizerConfig(cfg.maxT))]),
    });
    const events: TeacherEvent[] = [];
    let ended!: () => void;
    const end = new Promise<void>((resolve) => (ended = resolve));
    const onEvent = (ev: TeacherEvent) => {
      events.push(ev);
      if (ev.type === 'status' && ev.status !== 'running') ended();
    };
    const file = new File([QUESTIONS.map((q) => JSON.stringify(q)).join('\n')], 'three.jsonl');
    const { jobId, total } = await api.startJob(
      { questions: { kind: 'files', files: [file] }, endpoint: { kind: 'local', model: { kind: 'stored', id: MODEL_ID } }, method: 'plan', n: 2, temperature: 0.7, maxTokens: 32 },
      Comlink.proxy(onEvent),
    );
    cleanup.push(() => api.deleteJob(jobId));
    expect(total).toBe(3);
    await end;
    const notices = events.flatMap((e) => (e.type === 'notice' ? [e.message] : []));
    expect(notices.at(-1)).toMatch(/^Loaded tiny chain teacher \(0\.\d+ M parameters, 1280 tokens of context, its chat template\)\.$/);
    expect(events.at(-1)).toMatchObject({ type: 'status', status: 'done', message: expect.stringContaining('3 of 3 questions done: 1 correct and 2 wrong trajectories, 0 failed questions') });

    const results = (await api.jobResults(jobId, 3)).reverse();
    expect(results.map((r) => [r.status, r.gold, r.trajectories.map((t) => [t.answer, t.correct, t.plan])])).toEqual([
      ['ok', '7', [['7', true, ['Sum=7']]]],
      ['ok', '12', [['7', false, ['Sum=7']]]],
      ['ok', '15', [['7', false, ['Sum=7']]]],
    ]);
    // Per question: 2 plans (the same text twice: one distinct plan), 1 judgement, 1 execution, each "1. Sum=7" + EOS.
    for (const [i, r] of results.entries()) {
      const q = QUESTIONS[i].question;
      const plan = 'Step 1: Sum=7';
      const prompt = 2 * chatTokens(renderPrompt(DEFAULT_PROMPTS.plan, { question: q })) +
        chatTokens(renderPrompt(DEFAULT_PROMPTS.judge, { question: q, plan })) +
        chatTokens(renderPrompt(DEFAULT_PROMPTS.execute, { question: q, plan }));
      expect(r.usage).toEqual({ promptTokens: prompt, completionTokens: 4 * (ANSWER.length + 1), requests: 4 });
    }

    const saved = await api.saveJobAsDataset(jobId, { name: 'local teacher test', evalFraction: 0 });
    cleanup.push(() => deleteDataset(db, saved.datasetId));
    const rows = await getTrajectories(db, saved.datasetId);
    expect(rows.map((t) => [t.question, t.rewards?.answerCorrectness, t.meta?.teacher]).sort()).toEqual(
      [[QUESTIONS[1].question, 0, { model: 'tiny chain teacher', endpoint: 'local' }], [QUESTIONS[2].question, 0, { model: 'tiny chain teacher', endpoint: 'local' }], [QUESTIONS[0].question, 1, { model: 'tiny chain teacher', endpoint: 'local' }]].sort(),
    );
  });

  it('refuses, before asking anything, prompts longer than the local model reads', async () => {
    const long = { question: `${'How many? '.repeat(150)}`, answer: '#### 1' };
    const file = new File([JSON.stringify(long)], 'long.jsonl');
    await expect(
      api.startJob({ questions: { kind: 'files', files: [file] }, endpoint: { kind: 'local', model: { kind: 'stored', id: MODEL_ID } }, method: 'subq' }),
    ).rejects.toThrow(/^The decompose prompt for the first question has \d+ tokens and tiny chain teacher reads at most 1280 tokens \(prompt and answer together\): shorten the prompt templates or choose a model with a longer context\.$/);
    expect((await api.listJobs()).filter((j) => j.source === 'long.jsonl')).toEqual([]);
  });
});
