// What runs leave behind, through the trainer worker in a real browser: exports of a short SFT run
// (HF safetensors equal to the checkpoint's weights, metrics CSV/JSON, eval samples as JSONL that
// re-import with nothing rejected), PEFT and merged exports of a LoRA run, generation, and deletion.
import * as Comlink from 'comlink';
import { afterAll, describe, expect, it } from 'vitest';
import { renderPrompt } from '../../src/data/templates';
import { loadTokenizer } from '../../src/data/tokenizer/load';
import { importFile } from '../../src/data/validate';
import { readSafetensors } from '../../src/io';
import { parseHfConfig, toHfConfig, tinyLlama } from '../../src/model/config';
import { mergeLoraInto } from '../../src/model/hf-weights';
import { initParams } from '../../src/model/init';
import { importPeft } from '../../src/model/lora-io';
import { type ParamLayout, hfTensors, intoHfTensor, paramLayout, view } from '../../src/model/param-layout';
import { getCheckpointFile, latestCheckpoint } from '../../src/store/checkpoints';
import { openPlantuneDb } from '../../src/store/db';
import { deleteRun } from '../../src/store/runs';
import type { ExportedFile, RunConfig, RunEvent, TrainerApi } from '../../src/worker/api';

const worker = new Worker(new URL('../../src/worker/trainer.worker.ts', import.meta.url), { type: 'module' });
const api = Comlink.wrap<TrainerApi>(worker);
// The worker uses the default database; the page shares it (same origin) to look inside.
const db = await openPlantuneDb();
const runIds: string[] = [];

afterAll(async () => {
  for (const id of runIds) await deleteRun(db, id);
  db.close();
  api[Comlink.releaseProxy]();
  worker.terminate();
});

const hfConfig = toHfConfig(tinyLlama({ V: 260, C: 32, F: 48, L: 2, NH: 4, NKV: 2, maxT: 160 }));
const modelConfig = parseHfConfig(hfConfig);
const sft: RunConfig = {
  mode: 'sft',
  model: { config: hfConfig, init: 'random', seed: 3 },
  data: { synthetic: 16 },
  style: 'direct',
  steps: 2, batch: 2, lr: 3e-3, seq: 160, evalCount: 2, maxNewTokens: 6, checkpointEvery: 2,
};

/** Starts a run and waits until it is no longer running. */
async function train(config: RunConfig): Promise<string> {
  let finished!: (ev: RunEvent) => void;
  const done = new Promise<RunEvent>((resolve) => (finished = resolve));
  const runId = await api.startRun(config, Comlink.proxy((ev: RunEvent) => {
    if (ev.type === 'status' && ev.status !== 'running') finished(ev);
  }));
  runIds.push(runId);
  expect(await done).toMatchObject({ status: 'completed' });
  return runId;
}

function file(files: ExportedFile[], name: string): Blob {
  const f = files.find((x) => x.name === name);
  if (!f) throw new Error(`no ${name} among ${files.map((x) => x.name).join(', ')}`);
  return f.blob;
}

async function checkpointValues(runId: string, name: string): Promise<Float32Array> {
  const step = (await latestCheckpoint(db, runId))!.step;
  return new Float32Array(await (await getCheckpointFile(db, runId, step, name))!.arrayBuffer());
}

/** Every HF tensor of the layout in model.safetensors, with its shape and exactly the values of `params`. */
async function expectHfWeights(safetensors: Blob, layout: ParamLayout, params: Float32Array): Promise<void> {
  const st = await readSafetensors(safetensors);
  const expected = hfTensors(layout.tensors);
  expect([...st.tensors.keys()].sort()).toEqual(expected.map((t) => t.hfName).sort());
  for (const hf of expected) {
    const t = st.tensors.get(hf.hfName)!;
    expect(t.shape, hf.hfName).toEqual(hf.hfShape);
    const want = new Float32Array(t.size);
    for (const part of hf.parts) intoHfTensor(part, view(params, part), want);
    expect(await t.float32(), hf.hfName).toEqual(want);
  }
}

describe('run results in the trainer worker', () => {
  it('exports a 2-step SFT run: HF weights equal to its checkpoint, metrics, re-importable trajectories; answers questions', async () => {
    const runId = await train(sft);

    const model = await api.exportRun(runId, 'safetensors');
    expect(model.map((f) => f.name).sort()).toEqual(['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json']);
    expect(JSON.parse(await file(model, 'config.json').text())).toEqual(hfConfig);
    await expectHfWeights(file(model, 'model.safetensors'), paramLayout(modelConfig), await checkpointValues(runId, 'params'));
    const tokenizer = await loadTokenizer(await file(model, 'tokenizer.json').text(), await file(model, 'tokenizer_config.json').text());
    expect(tokenizer.vocabSize).toBeLessThanOrEqual(modelConfig.V);
    await expect(api.exportRun(runId, 'peft')).rejects.toThrow(/fine-tuned the whole model.*export the model as safetensors/);

    const metrics = await api.runMetrics(runId);
    expect(metrics.loss?.map((p) => p.step)).toEqual([1, 2]);
    const [csv] = await api.exportRun(runId, 'metrics-csv');
    expect(csv?.name).toBe('metrics.csv');
    const lines = (await csv!.blob.text()).trimEnd().split('\r\n').map((l) => l.split(','));
    const header = lines[0]!;
    expect(header[0]).toBe('step');
    expect([...header.slice(1)].sort()).toEqual(Object.keys(metrics).sort());
    const steps = [...new Set(Object.values(metrics).flatMap((s) => s.map((p) => p.step)))].sort((a, b) => a - b);
    expect(lines.slice(1).map((r) => Number(r[0]))).toEqual(steps);
    const lossCol = header.indexOf('loss');
    expect(lines.slice(1).filter((r) => r[lossCol] !== '').map((r) => Number(r[lossCol]))).toEqual(metrics.loss!.map((p) => p.value));

    const evals = await api.runEvals(runId);
    expect(evals.map((e) => e.step)).toEqual([0, 2]);
    const [json] = await api.exportRun(runId, 'metrics-json');
    expect(json?.name).toBe('metrics.json');
    expect(JSON.parse(await json!.blob.text())).toEqual({ run: { id: runId, name: expect.any(String), mode: 'sft', config: expect.objectContaining({ steps: 2 }) }, metrics, evals });

    const [jsonl] = await api.exportRun(runId, 'trajectories-jsonl');
    expect(jsonl?.name).toBe('trajectories.jsonl');
    const { trajectories, summary } = await importFile(jsonl!.blob, { file: 'trajectories.jsonl' });
    expect(summary).toMatchObject({ format: 'plantune', rejected: 0, fileErrors: [] });
    expect(summary.kept).toBeGreaterThan(0);
    const samples = evals.flatMap((e) => e.samples);
    expect(trajectories.every((t) => samples.some((s) => s.completion === t.solution && s.gold === t.finalAnswer.text))).toBe(true);
    expect(trajectories.map((t) => t.rewards?.answerCorrectness)).toEqual(trajectories.map((t) => (samples.find((s) => s.completion === t.solution)!.correct ? 1 : 0)));

    // Greedy answers from the run's latest weights: one per question, the same as its final eval's.
    const last = evals.at(-1)!.samples;
    const questions = last.map((s) => s.prompt.replace(/^Question: /, '').trim());
    const answers = await api.generate({ runId }, questions, { maxNewTokens: 6 });
    expect(answers).toHaveLength(questions.length);
    expect(answers.map((a) => a.prompt)).toEqual(questions.map(renderPrompt));
    expect(answers.map((a) => a.completion)).toEqual(last.map((s) => s.completion));
    for (const a of answers) expect(typeof a.truncated).toBe('boolean');
  });

  it('exports a LoRA run as a PEFT adapter equal to its checkpoint, and as a merged model', async () => {
    const runId = await train({ ...sft, evalCount: 0, lora: { rank: 2 } });
    const lora = await checkpointValues(runId, 'lora');
    const layout = paramLayout(modelConfig, { rank: 2, alpha: 4, targets: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] });

    const peft = await api.exportRun(runId, 'peft');
    expect(peft.map((f) => f.name).sort()).toEqual(['adapter_config.json', 'adapter_model.safetensors']);
    const adapterConfig = JSON.parse(await file(peft, 'adapter_config.json').text()) as Record<string, unknown>;
    expect(adapterConfig).toMatchObject({ peft_type: 'LORA', r: 2, lora_alpha: 4, base_model_name_or_path: 'random-init-seed-3' });
    expect(await importPeft(layout, adapterConfig, file(peft, 'adapter_model.safetensors'))).toEqual(lora);

    const base = initParams(paramLayout(modelConfig), 3);
    const merged = mergeLoraInto(layout, base, lora);
    expect(merged).not.toEqual(base); // two steps moved B away from its zero init
    await expectHfWeights(file(await api.exportRun(runId, 'safetensors'), 'model.safetensors'), paramLayout(modelConfig), merged);
    await expect(api.exportRun(runId, 'trajectories-jsonl')).rejects.toThrow(/no evaluation samples/);
  });

  it('answers with a model, refuses to delete or generate while training, then deletes everything of the run', async () => {
    const [answer, ...rest] = await api.generate({ model: { kind: 'default' } }, ['What is 2 + 3?'], { maxNewTokens: 3 });
    expect(rest).toEqual([]);
    expect(answer).toMatchObject({ prompt: renderPrompt('What is 2 + 3?'), completion: expect.any(String), truncated: expect.any(Boolean) });
    await expect(api.generate({ model: { kind: 'default' } }, ['  '])).rejects.toThrow('question 1 is empty');

    let stepped!: () => void;
    const firstStep = new Promise<void>((resolve) => (stepped = resolve));
    let finished!: () => void;
    const done = new Promise<void>((resolve) => (finished = resolve));
    const runId = await api.startRun({ ...sft, steps: 50, evalCount: 1, evalEvery: 1, checkpointEvery: 1 }, Comlink.proxy((ev: RunEvent) => {
      if (ev.type === 'step') stepped();
      if (ev.type === 'status' && ev.status !== 'running') finished();
    }));
    runIds.push(runId);
    await firstStep;
    await expect(api.deleteRun(runId)).rejects.toThrow(/is training: pause or stop it/);
    await expect(api.generate({ runId }, ['What is 1 + 1?'])).rejects.toThrow(/a run is training/);
    await api.stopRun(runId);
    await done;

    const counts = async () => [
      await db.runs.where('id').equals(runId).count(), await db.checkpoints.where('runId').equals(runId).count(),
      await db.checkpointFiles.where('runId').equals(runId).count(), await db.metrics.where('runId').equals(runId).count(),
      await db.evals.where('runId').equals(runId).count(),
    ];
    const before = await counts();
    expect(before.every((n) => n > 0), `runs, checkpoints, files, metrics, evals: ${before.join(', ')}`).toBe(true);
    await api.deleteRun(runId);
    expect(await counts()).toEqual([0, 0, 0, 0, 0]);
    await expect(api.runMetrics(runId)).rejects.toThrow(/no run/);
    await expect(api.deleteRun(runId)).rejects.toThrow(/no run/);
  });
});
