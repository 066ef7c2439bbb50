// The run form: mode, data, full fine-tuning or LoRA, and the hyperparameters, each with its default
// and a one-line explanation. Every visible field is checked as it is typed, with the message at the
// field; `read` gives the run's config only when all of them are valid.
import { TEMPLATE_STYLES, type TemplateStyle } from '../data/templates';
import type { AdvantageScale } from '../train/grpo-math';
import type { DatasetInfo, ModelInfo, OfflineRunSettings, RunConfig, RunInfo } from '../worker/api';
import { wantedGenRows } from '../worker/run-config';
import { el, int } from './dom';
import { type Field, checkboxGroup, numberField, selectField, textField } from './form-fields';
import { NUMBER_FIELDS, type NumberKey, checkNumber, defaultLr } from './run-fields';
import { runLabel } from './run-labels';

type Mode = RunConfig['mode'];

/** What the memory estimate needs. */
export interface MemoryPlan {
  batch: number;
  seq: number;
  loraRank?: number;
  /** Sequences the run would like to generate at once (it takes as many as fit). */
  genRows: number;
}

/** The form's config (the model comes from the Model section or `fromRun`) and its memory plan. */
export interface FormResult {
  config: RunConfig;
  plan: MemoryPlan;
}

export interface RunForm {
  /** Checks every visible field (marking the invalid ones) and returns the config, or the labels of the invalid fields. */
  read(): FormResult | { invalid: string[] };
  /** The run chosen under "Start from", if any. */
  fromRun(): RunInfo | null;
  setDatasets(datasets: DatasetInfo[]): void;
  /** Completed runs become "Start from" choices. */
  setRuns(runs: RunInfo[]): void;
  /** The Model section's model: LoRA target names and the longest allowed sequence. */
  setModel(info: ModelInfo | null): void;
  /** Any input changed (after its own check). */
  onChange(cb: () => void): void;
  /** Called when the data choice gets focus, to list the datasets imported since. */
  onDataFocus(cb: () => void): void;
}

const STYLE_LABELS: Record<TemplateStyle, string> = {
  'plan-then-solve': 'Plan, then solve',
  socratic: 'Socratic (Q/A pairs)',
  'subq-only': 'Sub-questions only',
  direct: 'Direct answer (no plan)',
};
const LORA_TARGETS = { llama: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'], gpt2: ['c_attn', 'c_proj', 'c_fc'] };
const SYNTHETIC = 'synthetic';

const group = (id: string, legend: string, ...fields: (Field<HTMLElement> | HTMLElement)[]): HTMLFieldSetElement =>
  el('fieldset', { class: 'run-group', id }, el('legend', {}, legend), el('div', { class: 'fields' }, ...fields.map((f) => ('wrap' in f ? f.wrap : f))));

export function initRunForm(container: HTMLElement): RunForm {
  const num = Object.fromEntries(Object.values(NUMBER_FIELDS).map((s) => [s.key, numberField(s)])) as Record<NumberKey, Field<HTMLInputElement>>;
  const mode = selectField('run-mode', 'Mode', 'SFT imitates trajectories; GRPO learns from answer correctness; offline RL learns from scored trajectories.', [
    ['sft', 'SFT'], ['grpo', 'GRPO (online RL)'], ['offline', 'Offline RL'],
  ]);
  const method = selectField('run-offline-method', 'Offline method', 'Filtered: imitate only correct rows. Weighted: every scored row, weighted by its score.', [
    ['filtered', 'Filtered behaviour cloning'], ['weighted', 'Reward-weighted behaviour cloning'],
  ]);
  const scores = selectField('run-offline-scores', 'Scores', 'Where a row’s score comes from.', [
    ['dataset', 'The rows’ own scores (e.g. GSM8K-AI-SubQ)'], ['computed', 'Computed: is the row’s final answer right?'],
  ]);
  const from = selectField('run-from', 'Start from', 'The Model section’s model, or the weights a completed run ended with (e.g. GRPO after SFT).', [['', 'The model above']]);
  const data = selectField('run-data', 'Data', 'A dataset stored in the Data section (its eval split is used for eval), or generated problems.', [[SYNTHETIC, 'Synthetic planning problems']]);
  const name = textField('run-name', 'Run name', 'Optional; the mode and the time otherwise.', 'e.g. plan SFT');
  const training = selectField('run-training', 'Weights trained', 'Full fine-tuning updates every weight; LoRA trains small adapters (less memory, an exportable adapter).', [
    ['full', 'Full fine-tuning'], ['lora', 'LoRA adapters'],
  ]);
  const targets = checkboxGroup('run-lora-targets', 'LoRA targets', 'The projections that get adapters.');
  const style = selectField('run-style', 'Completion style', 'How a plan is written in the training targets (the papers’ formats).', TEMPLATE_STYLES.map((s) => [s, STYLE_LABELS[s]]));
  const scale = selectField('run-scale', 'Advantage scaling', 'Rewards minus the group mean, divided by the group’s or the batch’s spread, or not divided.', [
    ['group', 'By group'], ['batch', 'By batch'], ['none', 'None'],
  ]);
  targets.set(LORA_TARGETS.llama);

  container.replaceChildren(
    group('run-group-what', 'What to train', mode, method, scores, from, data, num.synthetic, name),
    group('run-group-train', 'Training', training, num.loraRank, num.loraAlpha, targets, num.steps, num.batch, num.accum, num.lr, num.seq, style, num.checkpointEvery, num.seed),
    group('run-group-grpo', 'GRPO', num.prompts, num.G, num.temperature, num.beta, num.epsilon, num.numIterations, scale),
    group('run-group-eval', 'Evaluation', num.evalCount, num.evalEvery, num.passK, num.maxNewTokens),
  );

  let model: ModelInfo | null = null;
  let runs: RunInfo[] = [];
  /** Numbers the user typed: the others follow the mode and the model (learning rate, sequence and generation lengths). */
  const typed = new Set<NumberKey>();
  let family: ModelInfo['family'] = 'llama';
  const listeners: (() => void)[] = [];

  const m = (): Mode => mode.input.value as Mode;
  const lora = (): boolean => training.input.value === 'lora';
  const value = (key: NumberKey): number => Number(num[key].input.value);
  const visible = (f: Field<HTMLElement>): boolean => !f.wrap.hidden && !(f.wrap.closest('fieldset.run-group') as HTMLElement).hidden;

  function layout(): void {
    const current = m();
    method.wrap.hidden = current !== 'offline';
    scores.wrap.hidden = current !== 'offline';
    num.synthetic.wrap.hidden = data.input.value !== SYNTHETIC;
    for (const f of [num.loraRank, num.loraAlpha, targets]) f.wrap.hidden = !lora();
    num.accum.wrap.hidden = current === 'grpo';
    container.querySelector<HTMLElement>('#run-group-grpo')!.hidden = current !== 'grpo';
    if (!typed.has('lr')) num.lr.input.value = String(defaultLr(current, lora()));
  }

  /** The message for a number as it stands, or null. Sequence and generation lengths are capped by the model's context. */
  function numberProblem(key: NumberKey): string | null {
    const spec = NUMBER_FIELDS[key];
    const context = !from.input.value && model && (key === 'seq' || key === 'maxNewTokens') ? model.context : null;
    const message = checkNumber(spec, num[key].input.value, context ?? spec.max);
    if (message && context !== null) return `${message.slice(0, -1)} (the model’s context).`;
    if (message) return message;
    if (key === 'beta' && value('beta') > 0 && !lora()) return 'A KL weight above 0 needs LoRA (the reference is the model with its adapters off): choose LoRA adapters, or set it to 0.';
    return null;
  }

  const others: [Field<HTMLElement>, () => string | null][] = [
    [targets, () => (targets.checked().length === 0 ? 'Choose at least one projection for the adapters.' : null)],
    [data, () => (data.input.selectedOptions[0]?.dataset.missing ? 'This dataset is no longer stored: choose another.' : null)],
    [from, () => (from.input.selectedOptions[0]?.dataset.missing ? 'This run is no longer stored: choose another.' : null)],
  ];

  /** Re-checks every visible field; hidden ones are cleared (they are not part of the run). Returns the invalid ones. */
  function check(): Field<HTMLElement>[] {
    const checks: [Field<HTMLElement>, () => string | null][] = [
      ...(Object.keys(num) as NumberKey[]).map((k): [Field<HTMLElement>, () => string | null] => [num[k], () => numberProblem(k)]),
      ...others,
    ];
    const bad: Field<HTMLElement>[] = [];
    for (const [f, problem] of checks) {
      const message = visible(f) ? problem() : null;
      f.setError(message);
      if (message) bad.push(f);
    }
    return bad;
  }

  container.addEventListener('input', (e) => {
    const key = (Object.keys(num) as NumberKey[]).find((k) => num[k].input === e.target);
    if (key) typed.add(key);
    layout();
    check();
    listeners.forEach((cb) => cb());
  });
  container.addEventListener('change', () => {
    layout();
    check();
    listeners.forEach((cb) => cb());
  });

  /** Replaces a select's options, keeping the current choice (marked missing when it is gone). */
  function setOptions(select: HTMLSelectElement, fixed: [string, string][], items: [string, string][]): void {
    const current = select.value;
    const options = [...fixed, ...items].map(([value, text]) => el('option', { value }, text));
    if (current && !fixed.concat(items).some(([v]) => v === current)) {
      const gone = el('option', { value: current }, `${select.selectedOptions[0]?.textContent ?? current} (deleted)`);
      gone.dataset.missing = 'true';
      options.push(gone);
    }
    select.replaceChildren(...options);
    select.value = current;
  }

  function config(): RunConfig {
    const current = m();
    const run = from.input.value;
    const c: RunConfig = {
      mode: current,
      ...(name.input.value.trim() ? { name: name.input.value.trim() } : {}),
      ...(run ? { fromRun: run } : {}),
      data: data.input.value === SYNTHETIC ? { synthetic: value('synthetic') } : { datasetId: data.input.value },
      steps: value('steps'),
      batch: value('batch'),
      ...(current !== 'grpo' ? { accum: value('accum') } : {}),
      lr: value('lr'),
      seq: value('seq'),
      evalCount: value('evalCount'),
      evalEvery: value('evalEvery'),
      passK: value('passK'),
      maxNewTokens: value('maxNewTokens'),
      checkpointEvery: value('checkpointEvery'),
      style: style.input.value as TemplateStyle,
      seed: value('seed'),
    };
    if (lora()) c.lora = { rank: value('loraRank'), alpha: value('loraAlpha'), targets: targets.checked() };
    if (current === 'grpo') {
      c.grpo = {
        prompts: value('prompts'), G: value('G'), temperature: value('temperature'), beta: value('beta'), epsilon: value('epsilon'),
        numIterations: value('numIterations'), scale: scale.input.value as AdvantageScale,
      };
    }
    if (current === 'offline') c.offline = { method: method.input.value as OfflineRunSettings['method'], scores: scores.input.value as 'dataset' | 'computed' };
    return c;
  }

  layout();
  check();

  return {
    read() {
      const bad = check();
      if (bad.length > 0) return { invalid: bad.map((f) => f.wrap.querySelector('label, legend')?.textContent ?? f.input.id) };
      const c = config();
      return { config: c, plan: { batch: c.batch, seq: c.seq, ...(c.lora ? { loraRank: c.lora.rank } : {}), genRows: wantedGenRows(c) } };
    },
    fromRun: () => runs.find((r) => r.id === from.input.value) ?? null,
    setDatasets(datasets) {
      setOptions(data.input, [[SYNTHETIC, 'Synthetic planning problems']], datasets.map((d) => [d.id, `${d.name} (${int(d.counts.train)} train / ${int(d.counts.eval)} eval)`]));
      layout();
      check();
    },
    setRuns(list) {
      runs = list.filter((r) => r.status === 'completed');
      setOptions(from.input, [['', 'The model above']], runs.map((r) => [r.id, `Run ${runLabel(r)}`]));
      check();
    },
    setModel(info) {
      model = info;
      for (const key of ['seq', 'maxNewTokens'] as const) {
        if (info && !typed.has(key)) num[key].input.value = String(Math.min(NUMBER_FIELDS[key].value, info.context));
      }
      if (info && info.family !== family) {
        family = info.family;
        targets.set(LORA_TARGETS[family]);
      }
      check();
    },
    onChange: (cb) => void listeners.push(cb),
    onDataFocus: (cb) => data.input.addEventListener('focus', cb),
  };
}
