// The README's "Real models" commands, run here on tiny random models of the same architectures
// (SmolLM2-135M's Llama and Qwen2.5-0.5B's Qwen2, real config fields, bf16 weights, byte-level BPE
// tokenizers): the train CLI's own code path — a model folder (--model) or the hub (--hub, served
// by a fake fetch: no network here) — LoRA plan-tuning on GSM8K socratic rows from ../shared/data,
// then the PEFT export read back with importPeft against the model's LoRA layout.
import { commands } from 'vitest/browser';
import { describe, expect, it } from 'vitest';
import { parseFlags } from '../../src/cli/args';
import type { HeadlessContext } from '../../src/cli/headless-entry';
import { TRAIN_FLAGS, runTraining } from '../../src/cli/train';
import { importPeftAdapter, readSafetensors } from '../../src/io';
import type { FetchLike } from '../../src/io/hub';
import { parseHfConfig } from '../../src/model/config';
import { importPeft } from '../../src/model/lora-io';
import { paramLayout } from '../../src/model/param-layout';
import { tinyHubFolder } from './tiny-hub-models';

const SOCRATIC = '../shared/data/gsm8k/test_socratic.jsonl';
const TARGETS = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'];

/** The CLI's context over files in memory: what the run reads, and what it writes. */
function memoryContext(files: Map<string, Uint8Array>) {
  const written = new Map<string, Uint8Array>();
  const logs: string[] = [];
  const ctx: HeadlessContext = {
    args: [],
    log: (line) => logs.push(line),
    readFile: async (path) => {
      const f = files.get(path);
      if (!f) throw new Error(`ENOENT: no such file ${path}`);
      return f as Uint8Array<ArrayBuffer>;
    },
    writeFile: async (path, data) => void written.set(path, typeof data === 'string' ? new TextEncoder().encode(data) : data),
  };
  return { ctx, written, logs };
}

/** A fetch serving `https://huggingface.co/{repo}/resolve/main/{file}` from a folder; 404 for anything else. */
function fakeHub(repo: string, folder: Map<string, Uint8Array>): { fetch: FetchLike; urls: string[] } {
  const urls: string[] = [];
  const fetch: FetchLike = async (url) => {
    urls.push(url);
    const file = url.startsWith(`https://huggingface.co/${repo}/resolve/main/`) ? url.split('/resolve/main/')[1] : '';
    const body = folder.get(file);
    return body
      ? new Response(body as Uint8Array<ArrayBuffer>, { status: 200, headers: { 'content-length': String(body.length) } })
      : new Response('Entry not found', { status: 404, headers: { 'x-error-code': 'EntryNotFound' } });
  };
  return { fetch, urls };
}

const blob = (b: Uint8Array | undefined) => new Blob([b as Uint8Array<ArrayBuffer>]);
const text = (b: Uint8Array | undefined) => new TextDecoder().decode(b);

/** What every run must have written: a loadable model, the tokenizer, a PEFT adapter that fits the layout, metrics. */
async function checkExport(written: Map<string, Uint8Array>, out: string, original: Record<string, unknown>, baseModel: string) {
  for (const f of ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json', 'adapter/adapter_config.json', 'adapter/adapter_model.safetensors', 'metrics.json']) {
    expect(written.has(`${out}/${f}`), `${out}/${f} written`).toBe(true);
  }
  // The exported config describes the same model as the hub's config.json.
  const cfg = parseHfConfig(JSON.parse(text(written.get(`${out}/config.json`))));
  expect(cfg).toEqual(parseHfConfig(original));

  // The adapter: PEFT names and config, and it loads into the model's LoRA layout.
  const adapterConfig = JSON.parse(text(written.get(`${out}/adapter/adapter_config.json`)));
  expect(adapterConfig).toMatchObject({ peft_type: 'LORA', task_type: 'CAUSAL_LM', base_model_name_or_path: baseModel, r: 4, lora_alpha: 8 });
  expect([...adapterConfig.target_modules].sort()).toEqual([...TARGETS].sort());
  const weights = blob(written.get(`${out}/adapter/adapter_model.safetensors`));
  const names = (await readSafetensors(weights)).names;
  expect(names).toHaveLength(cfg.L * TARGETS.length * 2);
  expect(names).toContain('base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight');
  expect(names).toContain(`base_model.model.model.layers.${cfg.L - 1}.mlp.down_proj.lora_B.weight`);
  const layout = paramLayout(cfg, { rank: 4, alpha: 8, targets: TARGETS });
  const lora = await importPeft(layout, adapterConfig, weights);
  expect(lora.length).toBe(layout.lora!.totalElements);
  // B starts at zero (PEFT's init): two steps of training must have moved every B.
  const peft = await importPeftAdapter(adapterConfig, weights);
  for (const l of peft.layers) expect(l.B.some((x) => x !== 0), `${l.module} lora_B trained`).toBe(true);

  const metrics = JSON.parse(text(written.get(`${out}/metrics.json`)));
  expect(metrics.mode).toBe('sft');
  expect(metrics.metrics).toHaveLength(1); // logged every 10 steps and at the last
  expect(Number.isFinite(metrics.metrics[0].loss)).toBe(true);
}

async function socraticRows(): Promise<Uint8Array> {
  return new TextEncoder().encode(await commands.readFile(SOCRATIC));
}

const RUN = ['--data', SOCRATIC, '--style', 'socratic', '--lora-rank', '4', '--steps', '2', '--batch', '2', '--seq', '384', '--eval-count', '2', '--max-new-tokens', '8'];

describe('real architectures in miniature: LoRA plan-tuning on GSM8K socratic through the train CLI', () => {
  it('SmolLM2-135M-shaped Llama from a model folder (--model)', async () => {
    const folder = await tinyHubFolder('smollm2', 7);
    const files = new Map([...folder].map(([name, body]) => [`models/smollm2/${name}`, body]));
    files.set(SOCRATIC, await socraticRows());
    const { ctx, written, logs } = memoryContext(files);
    const { before, after } = await runTraining(ctx, parseFlags([...RUN, '--model', 'models/smollm2', '--out', 'out/smollm2'], TRAIN_FLAGS));
    expect(logs.join('\n')).toMatch(/gsm8k-socratic, 1319 rows, 1319 kept/);
    expect(logs.join('\n')).toMatch(/LlamaForCausalLM, .*\(LoRA r=4 on q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj\)/);
    expect([before?.n, after.n]).toEqual([2, 2]); // the first 2 held-out problems that fit 385 tokens
    await checkExport(written, 'out/smollm2', JSON.parse(text(folder.get('config.json'))), 'models/smollm2');
  });

  it('Qwen2.5-0.5B-shaped Qwen2 from the hub (--hub, a fake fetch)', async () => {
    const repo = 'Qwen/Qwen2.5-0.5B';
    const folder = await tinyHubFolder('qwen2', 11);
    const hub = fakeHub(repo, folder);
    const { ctx, written, logs } = memoryContext(new Map([[SOCRATIC, await socraticRows()]]));
    await runTraining(ctx, parseFlags([...RUN, '--hub', repo, '--out', 'out/qwen'], TRAIN_FLAGS), { fetch: hub.fetch });
    expect(hub.urls).toContain(`https://huggingface.co/${repo}/resolve/main/model.safetensors`);
    expect(logs.join('\n')).toMatch(/Qwen2ForCausalLM, .*\(LoRA r=4 on/);
    await checkExport(written, 'out/qwen', JSON.parse(text(folder.get('config.json'))), repo);
  });
});
