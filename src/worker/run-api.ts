// The worker's training-run handlers: one run (SFT, GRPO or offline RL) trains at a time, in the
// background, in segments that end at a checkpoint (every `checkpointEvery` steps) or an evaluation
// (before training, every `evalEvery` steps, at the end); pause/stop take effect after the current step.
// A config is checked completely (settings, model, data, memory) before anything is stored or trained.
// Status, metrics, evaluations and checkpoints go to the store, so a run survives the tab: resume
// rebuilds the same session from the stored config and restores the latest checkpoint.
import { releaseProxy } from 'comlink';
import type { Engine } from '../gpu/engine';
import { DeviceLostError } from '../gpu/errors';
import { latestCheckpoint } from '../store/checkpoints';
import type { PlantuneDb } from '../store/db';
import { logMetrics } from '../store/metrics';
import { type RunStatus, getRun, listRuns, putRun, setRunStatus } from '../store/runs';
import { captureCheckpoint, loadLatestCheckpoint, restoreCheckpoint, storeCheckpoint } from '../train/checkpoint';
import { defaultRunName, storedMode } from './run-config';
import { evaluateRun } from './run-eval';
import { type RunSession, buildSession, prepareRun, runLimits } from './run-session';
import type { TrainerHooks } from './run-trainer';
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

/** A Comlink-proxied callback holds a MessagePort until released. */
function releaseCallback(onEvent: (ev: RunEvent) => void): void {
  (onEvent as { [releaseProxy]?: () => void })[releaseProxy]?.();
}

export interface RunApiDeps {
  openDb: () => Promise<PlantuneDb>;
  /** The worker's engine; a new one after the device was lost. */
  engine: () => Promise<Engine>;
  /** Why the GPU cannot take a run now (answers being generated), or null. */
  gpuBusy?: () => string | null;
}

/** The handlers that train; the results of stored runs are run-results-api.ts's. */
export type RunControlApi = Pick<RunApi, 'startRun' | 'pauseRun' | 'resumeRun' | 'stopRun' | 'listRuns'>;

/** The run handlers, and `isTraining` for the other handlers (not part of the page's API). */
export function createRunApi({ openDb, engine, gpuBusy }: RunApiDeps): RunControlApi & { isTraining(runId?: string): boolean } {
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
    const hooks: TrainerHooks = {
      emit,
      log: (step, values) => {
        metrics = metrics.then(() => logMetrics(db, a.runId, step, values));
      },
    };
    try {
      e = await engine();
      session = await buildSession(e, db, config, (phase, done, total) => emit({ type: 'progress', phase, done, total }));
      const { model, opt, tokenizer, evalItems } = session;
      const ckpt = resume ? await loadLatestCheckpoint(db, a.runId) : undefined;
      const trainer = session.trainer(ckpt && (await restoreCheckpoint(model, opt, ckpt, session.dataSize)), hooks);
      const { steps, checkpointEvery, evalEvery = 0 } = config;
      saved = trainer.state.step;
      const evalNote = evalItems.length ? `; evaluating on ${evalItems.length} held-out problems` : '';
      await setStatus('running', ckpt ? `resumed at step ${saved} of ${steps}` : `training ${steps} steps on ${session.dataNote}${evalNote}`);
      const evalDue = (step: number) => evalItems.length > 0 && (step === steps || (evalEvery > 0 && step % evalEvery === 0));
      const evaluateAt = (step: number) => evaluateRun(db, a.runId, step, model, tokenizer, evalItems, config, hooks);
      if (!ckpt && evalItems.length) await evaluateAt(0);
      while (trainer.state.step < steps && a.request === null) {
        await trainer.train(() => a.request !== null || trainer.state.step % checkpointEvery === 0 || evalDue(trainer.state.step));
        const { step } = trainer.state;
        if (evalDue(step)) await evaluateAt(step);
        if (a.request !== null || step % checkpointEvery === 0 || step === steps) {
          await storeCheckpoint(db, a.runId, await captureCheckpoint(model, opt, trainer.state), config.keepLast!);
          saved = step;
          emit({ type: 'checkpoint', step });
        }
      }
      await metrics;
      const at = trainer.state.step;
      if (a.request === 'pause' && at < steps) await setStatus('paused', `paused at step ${at} of ${steps}`);
      else await setStatus('completed', at < steps ? `stopped at step ${at} of ${steps}` : `finished ${steps} steps`);
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
    const busy = gpuBusy?.();
    if (busy) throw new Error(`${busy}: start the run when it is done`);
    active = { runId, request: null, done: Promise.resolve() };
    return active;
  }

  function launch(a: ActiveRun, config: RunConfig, onEvent: (ev: RunEvent) => void, resume: boolean): void {
    const emit = emitter(onEvent);
    // execute reports its own errors; this catches only a database that would not open.
    a.done = execute(a, config, emit, resume).catch((err: unknown) => emit({ type: 'status', status: 'failed', message: message(err) })).finally(() => {
      active = null;
      releaseCallback(onEvent);
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
    isTraining: (runId) => (runId === undefined ? active !== null : active?.runId === runId),

    async startRun(config, onEvent) {
      const a = claim(newRunId());
      let c: RunConfig;
      try {
        const db = await openDb();
        // Refused here, before anything is stored: bad settings, a missing model or data set, too little memory.
        c = await prepareRun(db, runLimits(await engine()), config);
        await putRun(db, { id: a.runId, name: c.name ?? defaultRunName(c), mode: storedMode(c), config: c });
      } catch (e) {
        active = null;
        releaseCallback(onEvent);
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
