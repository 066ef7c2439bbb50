// The Teacher section: start a teacher job in the worker (an endpoint or a local model, questions from
// files or a stored dataset), watch its progress, counters and recent trajectories, pause, resume or
// cancel it (also after a reload: jobs live in IndexedDB), and save its trajectories as a dataset,
// which then appears in the Data section.
import * as Comlink from 'comlink';
import type { SavedTeacherDataset, TeacherEvent, TeacherJobInfo, TeacherResultView, TrainerApi } from '../worker/api';
import { DATASETS_CHANGED } from './data-panel';
import { byId, el, int, messageOf, plural } from './dom';
import { initTeacherForm } from './teacher-form';
import { STATUS_LABELS, progressText, renderCounters, renderJobs, renderResults, renderSkipped } from './teacher-view';

/** Recent trajectories shown. */
const RECENT = 5;

/** What to say about a job the page did not see stop (after a reload, or chosen in the list). */
function describe(j: TeacherJobInfo): { text: string; error: boolean } {
  const c = j.counters;
  const done = `${int(c.done)} of ${plural(c.total, 'question')}`;
  const needsKey = j.teacher.kind === 'http' && j.hasKey && !j.keyRemembered ? ' Enter the API key above first: it was not remembered in this browser.' : '';
  switch (j.status) {
    case 'interrupted':
      return { text: `This job was interrupted (the tab was closed or reloaded) after ${done}. Resume it to continue: finished questions are not asked again.${needsKey}`, error: false };
    case 'paused':
      return j.lastError
        ? { text: `Paused by a problem: ${j.lastError}. Nothing is lost (${done} done): resume it when the teacher is back.${needsKey}`, error: true }
        : { text: `Paused after ${done}.${needsKey}`, error: false };
    case 'done':
      return { text: `Finished: ${done}, ${int(c.correct)} correct and ${int(c.wrong)} wrong trajectories, ${int(c.failed)} failed questions.`, error: false };
    case 'cancelled':
      return { text: `Cancelled after ${done}; what is done is kept.${needsKey}`, error: false };
    default:
      return { text: `${STATUS_LABELS[j.status]}: ${done}.`, error: false };
  }
}

function savedText(s: SavedTeacherDataset): string {
  const shared = s.sharedWith.length ? ` It shares problems with ${s.sharedWith.map((d) => `“${d.name}” (${int(d.sharedProblems)})`).join(', ')}: do not train on one and evaluate on the other.` : '';
  return `Saved “${s.name}” as a dataset: ${plural(s.counts.trajectories, 'trajectory', 'trajectories')} (${int(s.correct)} correct) about ${plural(s.counts.problems, 'problem')}, ` +
    `${int(s.counts.train)} train / ${int(s.counts.eval)} eval${s.failedQuestions ? `, ${plural(s.failedQuestions, 'failed question')} listed as rejections` : ''}. It is in the Data section.${shared}`;
}

export function initTeacherPanel(trainer: Comlink.Remote<TrainerApi>): void {
  const form = initTeacherForm();
  const start = byId<HTMLButtonElement>('teacher-start');
  const pause = byId<HTMLButtonElement>('teacher-pause');
  const resume = byId<HTMLButtonElement>('teacher-resume');
  const cancel = byId<HTMLButtonElement>('teacher-cancel');
  const bar = byId<HTMLProgressElement>('teacher-progress');
  const progressLine = byId('teacher-progress-text');
  const status = byId('teacher-status');
  const notice = byId('teacher-notice');
  const jobArea = byId('teacher-job');
  const list = byId('teacher-jobs');
  const saveName = el('input', { id: 'teacher-save-name', type: 'text', autocomplete: 'off', placeholder: 'the job’s name' });
  const saveEval = el('input', { id: 'teacher-save-eval', type: 'number', min: 0, max: 1, step: 0.05, value: 0.1, inputmode: 'decimal' });
  const save = el('button', { id: 'teacher-save', type: 'button', class: 'primary' }, 'Save as dataset');
  const counters = el('div', { id: 'teacher-counters' });
  const skipped = el('div', { id: 'teacher-skipped' });
  const recentArea = el('div', { id: 'teacher-recent' });

  let jobs: TeacherJobInfo[] = [];
  let current: TeacherJobInfo | null = null;
  /** The job this page started or resumed and has not seen stop. */
  let runningId: string | null = null;
  let busy = false;
  let recent: TeacherResultView[] = [];
  /** The last status the worker sent about each job in this visit (it may arrive before startJob resolves). */
  const lastStatus = new Map<string, Extract<TeacherEvent, { type: 'status' }>>();

  const say = (text: string, error = false): void => {
    status.textContent = text;
    status.classList.toggle('error', error);
  };

  function syncButtons(): void {
    const running = runningId !== null;
    const c = current?.counters;
    const resumable = !!current && !running && (['paused', 'stopped', 'cancelled', 'interrupted'].includes(current.status) || (current.status === 'done' && c!.failed > 0));
    start.disabled = busy || running;
    pause.disabled = busy || !running || current?.id !== runningId;
    cancel.disabled = pause.disabled;
    resume.disabled = busy || !resumable;
    // A finished job goes on only by asking again about its failed questions.
    resume.textContent = current?.status === 'done' ? 'Retry failed' : 'Resume';
    save.disabled = busy || !current || (running && current.id === runningId) || (c ? c.correct + c.wrong === 0 : true);
    form.setBusy(busy || running);
  }

  function showProgress(c: TeacherJobInfo['counters'], perMinute?: number, etaMs?: number): void {
    bar.value = c.total > 0 ? c.done / c.total : 0;
    bar.classList.add('active');
    progressLine.textContent = progressText(c, perMinute, etaMs);
    counters.replaceChildren(renderCounters(c));
  }

  function renderJob(j: TeacherJobInfo): void {
    jobArea.replaceChildren(
      el('h3', { id: 'teacher-job-title' }, j.name, el('span', { class: 'muted' }, ` · ${STATUS_LABELS[j.status]}`)),
      el('p', { class: 'muted', id: 'teacher-job-about' }, `${j.teacher.model} (${j.teacher.kind === 'local' ? 'local model' : j.teacher.endpoint}) · questions from ${j.source} · temperature ${j.settings.temperature}, max ${int(j.settings.maxTokens)} tokens, prompts ${j.settings.promptVersion}`),
      counters,
      skipped,
      el('h4', {}, 'Recent trajectories'),
      recentArea,
      el(
        'div',
        { class: 'save-row' },
        el('div', { class: 'field' }, el('label', { for: saveName.id }, 'Dataset name'), saveName),
        el('div', { class: 'field' }, el('label', { for: saveEval.id }, 'Eval fraction'), saveEval),
        save,
      ),
    );
    showProgress(j.counters);
    recentArea.replaceChildren(renderResults(recent));
  }

  async function show(j: TeacherJobInfo, fromList = true): Promise<void> {
    if (current?.id !== j.id) {
      skipped.replaceChildren();
      saveName.value = '';
      recent = await trainer.jobResults(j.id, RECENT);
    }
    current = j;
    renderJob(j);
    renderList();
    if (fromList) {
      const heard = lastStatus.get(j.id);
      const d = heard ? { text: heard.message, error: heard.error !== undefined } : describe(j);
      say(d.text, d.error);
    }
    syncButtons();
  }

  function renderList(): void {
    list.replaceChildren(renderJobs(jobs, current?.id ?? null, { show: (j) => void act(() => show(j)), remove: (j) => void act(() => remove(j)) }));
  }

  async function refreshJobs(): Promise<void> {
    jobs = await trainer.listJobs();
    const chosen = jobs.find((j) => j.id === current?.id) ?? jobs[0] ?? null;
    if (chosen) await show(chosen, current?.id !== chosen.id);
    else {
      current = null;
      jobArea.replaceChildren();
      renderList();
      syncButtons();
    }
  }

  const onEvent = (ev: TeacherEvent): void => {
    if (ev.type === 'notice') {
      notice.textContent = ev.message;
      return;
    }
    if (ev.type === 'status') {
      lastStatus.set(ev.jobId, ev);
      if (ev.status !== 'running' && ev.jobId === runningId) {
        runningId = null;
        void act(refreshJobs);
      }
    }
    if (ev.jobId !== current?.id) return;
    if (ev.type === 'progress') {
      notice.textContent = '';
      current.counters = ev.counters;
      showProgress(ev.counters, ev.perMinute, ev.etaMs);
      renderList();
    } else if (ev.type === 'result') {
      recent = [ev.result, ...recent].slice(0, RECENT);
      recentArea.replaceChildren(renderResults(recent));
    } else {
      notice.textContent = '';
      say(ev.message, ev.error !== undefined);
      syncButtons();
    }
  };
  const events = Comlink.proxy(onEvent);

  /** Runs a UI action, reporting its failure in the status line. */
  async function act(task: () => Promise<void>): Promise<void> {
    try {
      await task();
    } catch (e) {
      say(messageOf(e), true);
    }
  }

  async function withBusy(task: () => Promise<void>): Promise<void> {
    busy = true;
    syncButtons();
    try {
      await act(task);
    } finally {
      busy = false;
      syncButtons();
    }
  }

  /** Marks `jobId` as running here, unless its end was already heard (a job can end before its start resolves). */
  function running(jobId: string): void {
    const heard = lastStatus.get(jobId);
    runningId = heard && heard.status !== 'running' ? null : jobId;
  }

  async function startJob(): Promise<void> {
    const options = form.read();
    if (typeof options === 'string') {
      say(options, true);
      return;
    }
    notice.textContent = ''; // a notice from an earlier start (e.g. "Loaded …") must not stand for this one
    say(options.endpoint.kind === 'local' ? 'Loading the local model…' : 'Reading the questions…');
    const started = await trainer.startJob(options, events);
    running(started.jobId);
    recent = [];
    current = null;
    await refreshJobs();
    skipped.replaceChildren(renderSkipped(started.skipped, started.skippedTotal) ?? '');
  }

  async function resumeJob(): Promise<void> {
    if (!current) return;
    const job = current;
    notice.textContent = '';
    say('Resuming…');
    lastStatus.delete(job.id);
    const retryFailed = job.status === 'done';
    await trainer.resumeJob(job.id, { ...(job.teacher.kind === 'http' ? form.key() : {}), retryFailed }, events);
    running(job.id);
    await refreshJobs();
  }

  async function saveJob(): Promise<void> {
    if (!current) return;
    const evalFraction = Number(saveEval.value);
    if (saveEval.value.trim() === '' || !(evalFraction >= 0 && evalFraction <= 1)) {
      saveEval.setAttribute('aria-invalid', 'true');
      saveEval.focus();
      say('The eval fraction must be a number from 0 to 1 (e.g. 0.1 holds out 10% of the problems).', true);
      return;
    }
    saveEval.removeAttribute('aria-invalid');
    const saved = await trainer.saveJobAsDataset(current.id, { ...(saveName.value.trim() ? { name: saveName.value.trim() } : {}), evalFraction });
    say(savedText(saved));
    document.dispatchEvent(new CustomEvent(DATASETS_CHANGED));
    await refreshJobs();
  }

  async function remove(j: TeacherJobInfo): Promise<void> {
    const kept = j.savedDatasets.length ? ' The datasets saved from it stay.' : '';
    if (!window.confirm(`Delete the teacher job “${j.name}” and its ${plural(j.counters.done, 'answered question')}? This cannot be undone.${kept}`)) return;
    await trainer.deleteJob(j.id);
    if (current?.id === j.id) current = null;
    await refreshJobs();
    say(`Deleted the teacher job “${j.name}”.`);
  }

  byId<HTMLFormElement>('teacher-form').addEventListener('submit', (e) => {
    e.preventDefault();
    if (!start.disabled) void withBusy(startJob);
  });
  pause.addEventListener('click', () => {
    if (!runningId) return;
    say('Pausing after the questions in flight…');
    void withBusy(() => trainer.pauseJob(runningId!));
  });
  cancel.addEventListener('click', () => {
    if (!runningId) return;
    say('Cancelling…');
    void withBusy(() => trainer.cancelJob(runningId!));
  });
  resume.addEventListener('click', () => void withBusy(resumeJob));
  save.addEventListener('click', () => void withBusy(saveJob));

  const refreshLists = () =>
    act(async () => {
      form.setDatasets(await trainer.listDatasets());
      // The model list comes from the Model API; without it only the built-in model is offered.
      form.setModels(await trainer.listModels().catch(() => []));
    });
  form.onListsWanted(() => void refreshLists());
  document.addEventListener(DATASETS_CHANGED, () => void refreshLists());
  void refreshLists();
  void act(refreshJobs);
}
