// The run form on its own (no worker): the config each mode sends, fields of other modes neither sent
// nor checked, defaults that follow the mode and the model until typed, and the messages at the fields.
import { beforeEach, describe, expect, it } from 'vitest';
import { type FormResult, type RunForm, initRunForm } from '../../src/ui/run-form';
import type { DatasetInfo, ModelInfo, RunInfo } from '../../src/worker/api';

let form: RunForm;
let box: HTMLElement;

const input = (id: string) => box.querySelector<HTMLInputElement | HTMLSelectElement>(`#${id}`)!;
const errorAt = (id: string) => box.querySelector(`#${id}-error`)!.textContent;
/** Types into a field (or picks an option) the way a user does: the form hears the bubbling event. */
function set(id: string, value: string): void {
  const el = input(id);
  el.value = value;
  el.dispatchEvent(new Event(el instanceof HTMLSelectElement ? 'change' : 'input', { bubbles: true }));
}
function ok(): FormResult {
  const r = form.read();
  if ('invalid' in r) throw new Error(`invalid: ${r.invalid.join(', ')}`);
  return r;
}
const invalid = (): string[] => {
  const r = form.read();
  return 'invalid' in r ? r.invalid : [];
};

const model = (over: Partial<ModelInfo>): ModelInfo => ({
  ref: { kind: 'default' }, name: 'm', architecture: 'LlamaForCausalLM', family: 'llama', params: 1, layers: 1, hidden: 8, heads: 1, kvHeads: 1,
  vocab: 260, context: 640, tiedEmbeddings: false, tokenizer: 'byte-level', files: [], ...over,
});

beforeEach(() => {
  box?.remove();
  box = document.createElement('div');
  document.body.append(box);
  form = initRunForm(box);
});

describe('the run form', () => {
  it('sends a short plan SFT of synthetic problems by default, with nothing of the other modes', () => {
    const { config, plan } = ok();
    expect(config).toEqual({
      mode: 'sft', data: { synthetic: 200 }, steps: 20, batch: 4, accum: 1, lr: 1e-3, seq: 256, evalCount: 8, evalEvery: 0, passK: 0,
      maxNewTokens: 160, checkpointEvery: 10, style: 'plan-then-solve', seed: 1,
    });
    expect(plan).toEqual({ batch: 4, seq: 256, genRows: 16 }); // eval generates 16 at once when memory allows
    expect(input('run-prompts').closest('fieldset')!.hidden).toBe(true);
    expect(input('run-loraRank').closest('.field')!.hasAttribute('hidden')).toBe(true);
  });

  it('sends GRPO with LoRA: the group settings, adapters on every projection, no accumulation, and a gentler learning rate', () => {
    set('run-mode', 'grpo');
    set('run-training', 'lora');
    set('run-name', ' after SFT ');
    const { config, plan } = ok();
    expect(config).toMatchObject({
      mode: 'grpo', name: 'after SFT', lr: 1e-4,
      lora: { rank: 8, alpha: 16, targets: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] },
      grpo: { prompts: 4, G: 4, temperature: 1, beta: 0, epsilon: 0.2, numIterations: 1, scale: 'group' },
    });
    expect(config).not.toHaveProperty('accum');
    expect(plan).toEqual({ batch: 4, seq: 256, loraRank: 8, genRows: 16 }); // the 4 x 4 rollouts at once
  });

  it('sends offline RL with its method and scores', () => {
    set('run-mode', 'offline');
    set('run-offline-method', 'weighted');
    set('run-offline-scores', 'computed');
    expect(ok().config).toMatchObject({ mode: 'offline', offline: { method: 'weighted', scores: 'computed' }, lr: 1e-3 });
  });

  it('checks only the fields the mode uses, and shows the message at the field', () => {
    set('run-G', '1');
    expect(invalid()).toEqual([]);
    expect(errorAt('run-G')).toBe('');
    set('run-mode', 'grpo');
    expect(invalid()).toEqual(['Completions per prompt (G)']);
    expect(errorAt('run-G')).toBe('Completions per prompt (G) must be a whole number from 2 to 64.');
    expect(input('run-G').getAttribute('aria-invalid')).toBe('true');
    set('run-beta', '0.04');
    expect(errorAt('run-beta')).toContain('A KL weight above 0 needs LoRA');
    set('run-training', 'lora');
    set('run-G', '3');
    expect(invalid()).toEqual([]);
    expect(input('run-G').hasAttribute('aria-invalid')).toBe(false);
  });

  it('keeps a typed learning rate when the mode changes', () => {
    set('run-lr', '0.0003');
    set('run-mode', 'grpo');
    set('run-training', 'lora');
    expect(ok().config).toMatchObject({ lr: 3e-4 });
  });

  it('fits sequence and generation lengths to the model’s context unless typed, and checks typed ones against it', () => {
    form.setModel(model({ context: 128 }));
    expect(ok().config).toMatchObject({ seq: 128, maxNewTokens: 128 });
    set('run-seq', '200');
    expect(errorAt('run-seq')).toBe('Sequence length must be a whole number from 8 to 128 (the model’s context).');
    form.setModel(model({ context: 640 }));
    expect(ok().config).toMatchObject({ seq: 200, maxNewTokens: 160 });
  });

  it('offers the LoRA targets of the model’s family and needs at least one', () => {
    form.setModel(model({ family: 'gpt2', architecture: 'GPT2LMHeadModel' }));
    set('run-training', 'lora');
    expect(ok().config.lora?.targets).toEqual(['c_attn', 'c_proj', 'c_fc']);
    for (const box of document.querySelectorAll<HTMLInputElement>('input[name="run-lora-targets"]')) {
      box.checked = false;
      box.dispatchEvent(new Event('change', { bubbles: true }));
    }
    expect(invalid()).toEqual(['LoRA targets']);
    expect(errorAt('run-lora-targets')).toBe('Choose at least one projection for the adapters.');
  });

  it('sends a stored dataset, and marks it when it is deleted meanwhile', () => {
    const d = { id: 'ds-1', name: 'gsm8k', counts: { train: 90, eval: 10 } } as DatasetInfo;
    form.setDatasets([d]);
    set('run-data', 'ds-1');
    expect(ok().config).toMatchObject({ data: { datasetId: 'ds-1' } });
    expect(input('run-synthetic').closest('.field')!.hasAttribute('hidden')).toBe(true);
    form.setDatasets([]);
    expect(invalid()).toEqual(['Data']);
    expect(errorAt('run-data')).toBe('This dataset is no longer stored: choose another.');
    expect((input('run-data') as HTMLSelectElement).selectedOptions[0].textContent).toBe('gsm8k (90 train / 10 eval) (deleted)');
  });

  it('offers completed runs to start from, and nothing else', () => {
    const run = (id: string, status: RunInfo['status']) => ({ id, name: id, mode: 'sft', status, config: { steps: 20 } }) as RunInfo;
    form.setRuns([run('done', 'completed'), run('half', 'paused'), run('broken', 'failed')]);
    expect([...(input('run-from') as HTMLSelectElement).options].map((o) => o.value)).toEqual(['', 'done']);
    set('run-from', 'done');
    expect(form.fromRun()?.id).toBe('done');
    expect(ok().config).toMatchObject({ fromRun: 'done' });
  });
});
