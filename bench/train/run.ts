// Runs one reference configuration on a fresh device: builds the model and optimizer, times full
// optimizer steps (split into forward+backward and the optimizer; the forward alone when asked),
// and accounts memory and FLOPs.
import { Engine } from '../../src/gpu/engine';
import { GpuOutOfMemoryError } from '../../src/gpu/errors';
import type { BenchConfig } from './configs';
import { type FlopCount, flopsPerToken } from './flops';
import { DeviceMemoryMeter, type MemoryReport, memoryReport } from './memory';
import { type Phase, type PhaseTiming, type Rounds, Trainee, countDispatches, timeRounds } from './step';

export interface ConfigResult {
  bc: BenchConfig;
  /** The batch actually used (1 after a fallback). */
  B: number;
  fellBack: boolean;
  step: PhaseTiming;
  warmupMs: number;
  warmupCompiles: Rounds['warmupCompiles'];
  tooSlow: boolean;
  /** Forward+backward and optimizer parts of the step samples; forward alone for configs that ask. */
  phases: Map<Phase, PhaseTiming>;
  flops: FlopCount;
  memory: MemoryReport;
  /** Mean −log p(target) after the timed steps (ln V expected on random weights). */
  nll: number;
}

export interface ConfigFailure {
  bc: BenchConfig;
  error: string;
  /** The configuration does not fit this adapter (a finding, not a bench failure). */
  outOfMemory: boolean;
}

/** Allocation refused by the pool, the device, or a flat buffer over maxBufferSize. */
const isOutOfMemory = (err: unknown): boolean =>
  err instanceof GpuOutOfMemoryError || (err instanceof Error && /maxBufferSize|out of memory/i.test(err.message));

type Log = (line: string) => void;

async function attempt(bc: BenchConfig, B: number, log: Log): Promise<ConfigResult> {
  const e = await Engine.create();
  const meter = DeviceMemoryMeter.install(e.device);
  const counter = countDispatches(e);
  let t: Trainee | null = null;
  try {
    t = new Trainee(e, bc, B);
    log(`  built (B=${B}, T=${bc.T}, ${(t.model.layout.numParams / 1e6).toFixed(2)} M params); timing ${bc.samples} optimizer steps after a warm-up step`);
    const rounds = await timeRounds(t, counter, { rounds: bc.samples, forward: bc.phases, limitMs: bc.fallbackAfterMs, progress: log });
    const step = rounds.phases.get('step')!;
    rounds.phases.delete('step');
    return {
      bc, B, fellBack: false, step, warmupMs: rounds.warmupMs, warmupCompiles: rounds.warmupCompiles, tooSlow: rounds.tooSlow, phases: rounds.phases,
      flops: flopsPerToken(t.model.layout, bc.T),
      memory: memoryReport(e, t.model, t.opt, meter),
      nll: await t.meanNll(),
    };
  } finally {
    t?.destroy();
    e.gpu.destroy();
  }
}

export async function runConfig(bc: BenchConfig, log: Log): Promise<ConfigResult | ConfigFailure> {
  try {
    const r = await attempt(bc, bc.B, log);
    if (!r.tooSlow || bc.B === 1) return r;
    log(`  one step took ${(r.step.medianMs / 1000).toFixed(0)} s > ${(bc.fallbackAfterMs ?? 0) / 1000} s: re-running with B=1`);
    return { ...(await attempt(bc, 1, log)), fellBack: true };
  } catch (err) {
    const error = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    const outOfMemory = isOutOfMemory(err);
    log(`  ${outOfMemory ? 'exceeds memory' : 'failed'}: ${error}`);
    return { bc, error, outOfMemory };
  }
}
