// The Teacher section's form: which teacher (an endpoint or a local model), which questions (files or
// a stored dataset), the method and its numbers, the prompts. Read into the worker's TeacherJobOptions
// with each number checked here (the invalid field is marked and focused, the message says what is
// allowed). Everything but the API key is kept in this browser between visits.
import type { DatasetInfo, ModelRef, StoredModelInfo, TeacherJobOptions } from '../worker/api';
import { byId, el, int } from './dom';
import { type QuestionFiles, initQuestionFiles } from './teacher-files';
import { type PromptEditor, initPromptEditor } from './teacher-prompts';

const STORAGE_KEY = 'plantune.teacher.form';
/** Fields kept between visits (never the key). */
const KEPT = ['teacher-url', 'teacher-model', 'teacher-dir', 'teacher-limit', 'teacher-method', 'teacher-n', 'teacher-temperature', 'teacher-concurrency', 'teacher-max-tokens', 'teacher-timeout', 'teacher-retries', 'teacher-split'];

export interface TeacherForm {
  /** The job options, or the message to show when a field is not valid. */
  read(): TeacherJobOptions | string;
  /** The key typed in the form (for a resume), and whether to remember it. */
  key(): { apiKey?: string; rememberKey: boolean };
  setBusy(busy: boolean): void;
  setDatasets(datasets: DatasetInfo[]): void;
  setModels(models: StoredModelInfo[]): void;
  /** Called when the dataset or model lists may be stale (a select gets focus). */
  onListsWanted(f: () => void): void;
}

function mark(input: HTMLInputElement, ok: boolean): boolean {
  if (ok) input.removeAttribute('aria-invalid');
  else input.setAttribute('aria-invalid', 'true');
  return ok;
}

/** A number field's value in [min, max] (whole when `whole`), `undefined` when empty and allowed, or an error message. */
function numberIn(id: string, label: string, min: number, max: number, whole: boolean, optional = false): number | undefined | string {
  const input = byId<HTMLInputElement>(id);
  const raw = input.value.trim();
  if (raw === '' && optional) {
    mark(input, true);
    return undefined;
  }
  const v = Number(raw);
  if (mark(input, raw !== '' && Number.isFinite(v) && v >= min && v <= max && (!whole || Number.isInteger(v)))) return v;
  input.focus();
  return `${label} must be ${whole ? 'a whole number' : 'a number'} from ${int(min)} to ${int(max)}${optional ? ' (or empty)' : ''}.`;
}

function radio(name: string): string {
  return (document.querySelector<HTMLInputElement>(`input[name="${name}"]:checked`))?.value ?? '';
}

function restore(): void {
  let kept: Record<string, string> = {};
  try {
    kept = JSON.parse(localStorage.getItem(STORAGE_KEY) ?? '{}') as Record<string, string>;
  } catch {
    // unreadable: the defaults
  }
  for (const id of KEPT) if (typeof kept[id] === 'string') byId<HTMLInputElement>(id).value = kept[id];
  for (const name of ['teacher-kind', 'teacher-questions']) {
    const box = document.querySelector<HTMLInputElement>(`input[name="${name}"][value="${kept[name]}"]`);
    if (box) box.checked = true;
  }
}

function keep(): void {
  const kept: Record<string, string> = Object.fromEntries(KEPT.map((id) => [id, byId<HTMLInputElement>(id).value]));
  kept['teacher-kind'] = radio('teacher-kind');
  kept['teacher-questions'] = radio('teacher-questions');
  localStorage.setItem(STORAGE_KEY, JSON.stringify(kept));
}

export function initTeacherForm(): TeacherForm {
  const form = byId<HTMLFormElement>('teacher-form');
  const files: QuestionFiles = initQuestionFiles(byId('teacher-drop'), byId<HTMLInputElement>('teacher-files'), byId('teacher-selection'));
  const prompts: PromptEditor = initPromptEditor(byId('teacher-prompt-fields'), byId('teacher-prompts').querySelector('summary')!);
  const datasetSelect = byId<HTMLSelectElement>('teacher-dataset');
  const modelSelect = byId<HTMLSelectElement>('teacher-local-model');
  const method = byId<HTMLSelectElement>('teacher-method');
  let listsWanted: () => void = () => undefined;

  const sync = (): void => {
    const local = radio('teacher-kind') === 'local';
    byId('teacher-http').hidden = local;
    byId('teacher-local').hidden = !local;
    byId('teacher-requests').hidden = local;
    byId('teacher-dir-field').hidden = modelSelect.value !== 'dir';
    const fromFiles = radio('teacher-questions') === 'files';
    byId('teacher-files-area').hidden = !fromFiles;
    byId('teacher-dataset-area').hidden = fromFiles;
  };
  restore();
  sync();
  form.addEventListener('change', (e) => {
    // The documented defaults of n follow the method: best of 5 plans, or one decomposition.
    if (e.target === method) byId<HTMLInputElement>('teacher-n').value = method.value === 'plan' ? '5' : '1';
    sync();
    keep();
  });
  form.addEventListener('input', keep);
  for (const s of [datasetSelect, modelSelect]) s.addEventListener('focus', () => listsWanted());

  const endpoint = (): TeacherJobOptions['endpoint'] | string => {
    if (radio('teacher-kind') === 'local') {
      const v = modelSelect.value;
      let model: ModelRef;
      if (v === 'dir') {
        const dir = byId<HTMLInputElement>('teacher-dir');
        if (!mark(dir, dir.value.trim() !== '')) return (dir.focus(), 'Give the folder the model is served from, e.g. /models/my-teacher/.');
        model = { kind: 'dir', dir: dir.value.trim() };
      } else model = v === 'default' ? { kind: 'default' } : { kind: 'stored', id: v };
      return { kind: 'local', model };
    }
    const url = byId<HTMLInputElement>('teacher-url');
    const name = byId<HTMLInputElement>('teacher-model');
    if (!mark(url, url.value.trim() !== '')) return (url.focus(), 'Give the endpoint’s base URL, e.g. http://127.0.0.1:8000/v1.');
    if (!mark(name, name.value.trim() !== '')) return (name.focus(), 'Give the teacher model’s name, as the endpoint knows it.');
    const timeout = numberIn('teacher-timeout', 'The timeout', 1, 3600, true);
    const retries = numberIn('teacher-retries', 'Retries', 0, 20, true);
    for (const v of [timeout, retries]) if (typeof v === 'string') return v;
    return { kind: 'http', baseUrl: url.value.trim(), model: name.value.trim(), ...key(), timeoutMs: (timeout as number) * 1000, maxRetries: retries as number };
  };

  const key = (): { apiKey?: string; rememberKey: boolean } => {
    const apiKey = byId<HTMLInputElement>('teacher-key').value.trim();
    return { ...(apiKey ? { apiKey } : {}), rememberKey: byId<HTMLInputElement>('teacher-remember').checked };
  };

  return {
    read() {
      const ep = endpoint();
      if (typeof ep === 'string') return ep;
      let questions: TeacherJobOptions['questions'];
      if (radio('teacher-questions') === 'files') {
        if (files.files().length === 0) return 'Choose or drop the question files first.';
        questions = { kind: 'files', files: files.files() };
      } else {
        if (!datasetSelect.value) return 'Choose a stored dataset (import one in the Data section).';
        questions = { kind: 'dataset', datasetId: datasetSelect.value, split: byId<HTMLSelectElement>('teacher-split').value as 'train' | 'eval' | 'all' };
      }
      const numbers = [
        numberIn('teacher-limit', 'The number of questions', 1, 10_000_000, true, true),
        numberIn('teacher-n', 'n', 1, 64, true),
        numberIn('teacher-temperature', 'The temperature', 0, 2, false),
        numberIn('teacher-concurrency', 'Concurrency', 1, 64, true),
        numberIn('teacher-max-tokens', 'Max tokens', 1, 1_000_000, true),
      ];
      const bad = numbers.find((v) => typeof v === 'string');
      if (bad !== undefined) return bad as string;
      const [limit, n, temperature, concurrency, maxTokens] = numbers as (number | undefined)[];
      const p = prompts.read();
      if (Array.isArray(p)) {
        byId<HTMLDetailsElement>('teacher-prompts').open = true;
        return `The prompt templates cannot be used: ${p.join('; ')}.`;
      }
      return { questions, ...(limit !== undefined ? { limit } : {}), endpoint: ep, method: method.value as 'plan' | 'subq', n, temperature, concurrency, maxTokens, prompts: p };
    },
    key,
    setBusy(busy) {
      files.setDisabled(busy);
      form.setAttribute('aria-busy', String(busy));
    },
    setDatasets(datasets) {
      const chosen = datasetSelect.value;
      datasetSelect.replaceChildren(
        ...(datasets.length ? [] : [el('option', { value: '' }, 'No stored dataset')]),
        ...datasets.map((d) => el('option', { value: d.id }, `${d.name} (${int(d.counts.problems)} problems)`)),
      );
      if (datasets.some((d) => d.id === chosen)) datasetSelect.value = chosen;
    },
    setModels(models) {
      const chosen = modelSelect.value;
      modelSelect.replaceChildren(
        el('option', { value: 'default' }, 'plantune-tiny (built in)'),
        ...models.map((m) => el('option', { value: m.id }, `${m.name} (${(m.params / 1e6).toFixed(1)} M parameters)`)),
        el('option', { value: 'dir' }, 'A served folder…'),
      );
      if ([...modelSelect.options].some((o) => o.value === chosen)) modelSelect.value = chosen;
      sync();
    },
    onListsWanted(f) {
      listsWanted = f;
    },
  };
}
