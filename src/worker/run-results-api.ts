// The worker's handlers for what runs leave behind: metrics and evaluations (charts after a reload),
// exports (HF model, PEFT adapter, metrics, eval samples as trajectories), deletion, and answers to
// free-form questions from a run's latest weights or a model.
import { loadTokenizer } from '../data/tokenizer/load';
import type { Engine } from '../gpu/engine';
import type { PlantuneDb } from '../store/db';
import { listEvals } from '../store/evals';
import { runMetrics as storedMetrics } from '../store/metrics';
import { type RunRecord, deleteRun, getRun } from '../store/runs';
import { answerQuestions, checkQuestions } from './generate-answers';
import { metricsCsv, metricsJson } from './metrics-export';
import { hfModelFiles, latestStep, peftFiles } from './model-export';
import type { ModelRef } from './model-types';
import { DEFAULT_MODEL_DIR } from './run-config';
import { type ModelSource, modelSource, runSource } from './run-model';
import type { ExportKind, ExportedFile, RunApi, RunConfig, RunMetrics } from './run-types';
import { evalTrajectories, trajectoriesJsonl } from './trajectories-export';

export interface RunResultsDeps {
  openDb: () => Promise<PlantuneDb>;
  /** The worker's engine; a new one after the device was lost. */
  engine: () => Promise<Engine>;
  /** Whether run `runId` is training now; without an id, whether any run is. */
  isTraining: (runId?: string) => boolean;
}

export type RunResultsApi = Pick<RunApi, 'deleteRun' | 'runMetrics' | 'runEvals' | 'exportRun' | 'generate'>;

/** The results handlers, and `isGenerating` for the run handlers (not part of the page's API). */
export type RunResultsHandlers = RunResultsApi & { isGenerating(): boolean };

export const EXPORT_KINDS: readonly ExportKind[] = ['safetensors', 'peft', 'metrics-csv', 'metrics-json', 'trajectories-jsonl'];

async function storedRun(db: PlantuneDb, runId: string): Promise<RunRecord> {
  const run = await getRun(db, runId);
  if (!run) throw new Error(`there is no run "${runId}" (was it deleted?)`);
  return run;
}

/** Every metric of the run, one series per name by increasing step. */
async function metricsOf(db: PlantuneDb, runId: string): Promise<RunMetrics> {
  const series: RunMetrics = {};
  // By step, then name: each series comes out in step order.
  for (const { name, step, value } of await storedMetrics(db, runId)) (series[name] ??= []).push({ step, value });
  return series;
}

const text = (name: string, type: string, content: string): ExportedFile[] => [{ name, blob: new Blob([content], { type }) }];

/** Where a ModelRef's files are: the served default, a served folder, or a stored model. */
export function refSource(db: PlantuneDb, ref: ModelRef): Promise<ModelSource> {
  if (ref.kind === 'stored') return modelSource(db, { modelId: ref.id });
  if (ref.kind === 'dir') return modelSource(db, { modelDir: ref.dir });
  if (ref.kind === 'default') return modelSource(db, { modelDir: DEFAULT_MODEL_DIR });
  throw new Error(`unknown model reference ${JSON.stringify(ref)}: use { kind: 'default' }, { kind: 'dir', dir } or { kind: 'stored', id }`);
}

/** The model to answer with: a run's latest weights (and its maxNewTokens), or a model. */
async function generationSource(db: PlantuneDb, source: { runId: string } | { model: ModelRef }): Promise<{ model: ModelSource; maxNewTokens?: number }> {
  if (!('runId' in source)) return { model: await refSource(db, source.model) };
  const run = await storedRun(db, source.runId);
  return { model: await runSource(db, run.id, await latestStep(db, run)), maxNewTokens: (run.config as RunConfig).maxNewTokens };
}

export function createRunResultsApi({ openDb, engine, isTraining }: RunResultsDeps): RunResultsHandlers {
  /** Generations run one after another (each builds its own model on the GPU); `pending` counts those asked for and not finished. */
  let generating: Promise<unknown> = Promise.resolve();
  let pending = 0;

  async function exportFiles(db: PlantuneDb, run: RunRecord, kind: ExportKind): Promise<ExportedFile[]> {
    switch (kind) {
      case 'safetensors':
        return hfModelFiles(db, run);
      case 'peft':
        return peftFiles(db, run);
      case 'metrics-csv':
        return text('metrics.csv', 'text/csv', metricsCsv(await metricsOf(db, run.id)));
      case 'metrics-json': {
        const doc = { run: { id: run.id, name: run.name, mode: run.mode, config: run.config as RunConfig }, metrics: await metricsOf(db, run.id), evals: await listEvals(db, run.id) };
        return text('metrics.json', 'application/json', metricsJson(doc));
      }
      case 'trajectories-jsonl': {
        const rows = evalTrajectories(run.id, await listEvals(db, run.id));
        if (!rows.length) throw new Error(`run "${run.name}" has no evaluation samples to export: give it evalCount > 0 to evaluate held-out problems`);
        return text('trajectories.jsonl', 'application/x-ndjson', trajectoriesJsonl(rows));
      }
      default:
        throw new Error(`unknown export "${String(kind)}": use ${EXPORT_KINDS.join(', ')}`);
    }
  }

  return {
    async deleteRun(runId) {
      const db = await openDb();
      const run = await storedRun(db, runId);
      if (isTraining(runId)) throw new Error(`run "${run.name}" is training: pause or stop it before deleting it`);
      await deleteRun(db, runId);
    },

    async runMetrics(runId) {
      const db = await openDb();
      await storedRun(db, runId);
      return metricsOf(db, runId);
    },

    async runEvals(runId) {
      const db = await openDb();
      await storedRun(db, runId);
      return listEvals(db, runId);
    },

    async exportRun(runId, kind) {
      const db = await openDb();
      return exportFiles(db, await storedRun(db, runId), kind);
    },

    // opts.style needs nothing here: every template style shares the prompt (renderPrompt).
    async generate(source, questions, opts = {}) {
      const refuseWhileTraining = () => {
        if (isTraining()) throw new Error('a run is training and holds the GPU: pause it or let it finish, then ask again');
      };
      refuseWhileTraining();
      checkQuestions(questions, opts);
      const task = generating.catch(() => undefined).then(async () => {
        refuseWhileTraining();
        const db = await openDb();
        const { model, maxNewTokens } = await generationSource(db, source);
        const files = await model.tokenizerFiles();
        const tokenizer = await loadTokenizer(files.json, files.config);
        return answerQuestions(await engine(), { config: model.config, params: await model.weights(), tokenizer }, questions, { ...opts, maxNewTokens: opts.maxNewTokens ?? maxNewTokens });
      });
      generating = task;
      pending++;
      return task.finally(() => pending--);
    },
    isGenerating: () => pending > 0,
  };
}
