// The worker's training-run handlers: one run trains at a time, in the background, in segments of
// `checkpointEvery` steps with a checkpoint after each; pause/stop take effect after the current step.
// Status, metrics and checkpoints go to the store, so a run survives the tab: resume rebuilds the same
// session from the stored config and restores the latest checkpoint.
import { releaseProxy } from 'comlink';
import type { Engine } from '../gpu/engine';
import { DeviceLostError } from '../gpu/errors';
import { latestCheckpoint } from '../store/checkpoints';
import type { PlantuneDb } from '../store/db';
import { logMetrics } from '../store/metrics';
import { type RunStatus, getRun, listRuns, putRun, setRunStatus } from '../store/runs';
import { captureCheckpoint, loadLatestCheckpoint, restoreCheckpoint, storeCheckpoint } from '../train/checkpoint';
import { type SftHooks, newSftState, runSft } from '../train/sft';
import { type RunSession, buildSession, resolveConfig } from './run-session';
import type { RunApi, RunConfig, RunEvent } from './run-types';

interface ActiveRun {
  runId: string;
  /** Set by pauseRun / stopRun; read after every step. */
  request: 'pause' | 'stop' | null;
  done: Promise<void>;
}

type Emit = (ev: RunEvent) => void;

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

function newRunId(): string {
  return `run-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

/** Events go to a Comlink proxy: a page that went away must not break the run. */
function emitter(onEvent: (ev: RunEvent) => void): Emit {
  return (ev) => void Promise.resolve().then(() => onEvent(ev)).catch(() => undefined);
}

export interface RunApiDeps {
  openDb: () => Promise<PlantuneDb>;
  /** The worker's engine; a new one after the device was lost. */
  engine: () => Promise<Engine>;
}

export function createRunApi({ openDb, engine }: RunApiDeps): RunApi {
  let active: ActiveRun | null = null;

  /** Trains run `a` from step 0 or from its latest checkpoint to the end, a pause or a stop. */
  async function execute(a: ActiveRun, config: RunConfig, emit: Emit, resume: boolean): Promise<void> {
    const db = await openDb();
    /** Stored first, so a page reacting to the event reads the new status. */
    const setStatus = async (status: RunStatus, text: string, error?: string): Promise<void> => {
      try {
        await setRunStatus(db, a.runId, status, error);
      } finally {
        emit({ type: 'status', status, message: text });
      }
    };
    let session: RunSession | null = null;
    let saved = 0;
    let metrics = Promise.resolve();
    let e: Engine | null = null;
    try {
      e = await engine();
      session = await buildSession(e, db, config);
      const { model, opt, tokenizer, examples, evalItems, sft } = session;
      const ckpt = resume ? await loadLatestCheckpoint(db, a.runId) : undefined;
      const state = ckpt ? await restoreCheckpoint(model, opt, ckpt, examples.length) : newSftState(examples.length, sft.seed);
      saved = state.step;
      await setStatus('running', ckpt ? `resumed at step ${state.step} of ${sft.steps}` : `training ${sft.steps} steps on ${examples.length} examples`);
      const hooks: SftHooks = {
        onStep: (m) => {
          emit({ type: 'step', ...m });
          metrics = metrics.then(() => logMetrics(db, a.runId, m.step, { loss: m.loss, lr: m.lr, gradNorm: m.gradNorm, tokensPerSecond: m.tokensPerSecond }));
        },
        onEval: (step, r) => {
          emit({ type: 'eval', step, accuracy: r.accuracy, bySteps: r.bySteps });
          metrics = metrics.then(() => logMetrics(db, a.runId, step, { accuracy: r.accuracy }));
        },
        shouldStop: () => a.request !== null || state.step % config.checkpointEvery === 0,
      };
      while (state.step < sft.steps && a.request === null) {
        await runSft(model, opt, tokenizer, examples, evalItems, sft, state, hooks);
        await storeCheckpoint(db, a.runId, await captureCheckpoint(model, opt, state), config.keepLast!);
        saved = state.step;
        emit({ type: 'checkpoint', step: state.step });
      }
      await metrics;
      if (a.request === 'pause' && state.step < sft.steps) await setStatus('paused', `paused at step ${state.step} of ${sft.steps}`);
      else await setStatus('completed', state.step < sft.steps ? `stopped at step ${state.step} of ${sft.steps}` : `finished ${sft.steps} steps`);
    } catch (err) {
      await metrics.catch(() => undefined);
      const text = message(err);
      const kept = saved > 0 ? `the checkpoint at step ${saved} is kept` : 'no checkpoint was saved';
      const update = err instanceof DeviceLostError || e?.gpu.isLost
        ? setStatus('paused', `the GPU device was lost (${text}); ${kept}: resume the run to continue from it`)
        : setStatus('failed', `${text}; ${kept}`, text);
      await update.catch(() => undefined);
    } finally {
      session?.destroy();
    }
  }

  /** Reserves the GPU for run `runId` (synchronously, so two calls cannot both start). */
  function claim(runId: string): ActiveRun {
    if (active) throw new Error(`run "${active.runId}" is training: pause or stop it first`);
    active = { runId, request: null, done: Promise.resolve() };
    return active;
  }

  function launch(a: ActiveRun, config: RunConfig, onEvent: (ev: RunEvent) => void, resume: boolean): void {
    const emit = emitter(onEvent);
    // execute reports its own errors; this catches only a database that would not open.
    a.done = execute(a, config, emit, resume).catch((err: unknown) => emit({ type: 'status', status: 'failed', message: message(err) })).finally(() => {
      active = null;
      // A Comlink-proxied callback holds a MessagePort until released.
      (onEvent as { [releaseProxy]?: () => void })[releaseProxy]?.();
    });
  }

  /** Asks the active run to stop after its current step and waits for it; false when `runId` is not training. */
  async function request(runId: string, what: 'pause' | 'stop'): Promise<boolean> {
    if (active?.runId !== runId) return false;
    active.request ??= what;
    await active.done;
    return true;
  }

  async function storedRun(db: PlantuneDb, runId: string) {
    const run = await getRun(db, runId);
    if (!run) throw new Error(`there is no run "${runId}" (was it deleted?)`);
    return run;
  }

  return {
    async startRun(config, onEvent) {
      const c = resolveConfig(config);
      const a = claim(newRunId());
      try {
        await putRun(await openDb(), { id: a.runId, name: c.name ?? `SFT ${new Date().toISOString().slice(0, 16).replace('T', ' ')}`, mode: 'sft', config: c });
      } catch (e) {
        active = null;
        throw e;
      }
      launch(a, c, onEvent, false);
      return a.runId;
    },

    async pauseRun(runId) {
      if (await request(runId, 'pause')) return;
      // Not training here: a run left "running" by a closed tab is paused at its last checkpoint.
      const db = await openDb();
      const run = await storedRun(db, runId);
      if (run.status === 'running' || run.status === 'created') await setRunStatus(db, runId, 'paused');
    },

    async resumeRun(runId, onEvent) {
      const run = await storedRun(await openDb(), runId);
      if (run.status === 'completed') throw new Error(`run "${run.name}" is completed: there is nothing to resume`);
      launch(claim(runId), run.config as RunConfig, onEvent, true);
    },

    async stopRun(runId) {
      if (await request(runId, 'stop')) return;
      const db = await openDb();
      const run = await storedRun(db, runId);
      if (run.status !== 'completed' && run.status !== 'failed') await setRunStatus(db, runId, 'completed');
    },

    async listRuns() {
      const db = await openDb();
      return Promise.all(
        (await listRuns(db)).map(async (r) => ({
          id: r.id, name: r.name, mode: r.mode, status: r.status, ...(r.error !== undefined ? { error: r.error } : {}),
          config: r.config as RunConfig, checkpointStep: (await latestCheckpoint(db, r.id))?.step ?? 0, createdAt: r.createdAt, updatedAt: r.updatedAt,
        })),
      );
    },
  };
}
