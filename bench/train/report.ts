// The printed tables: throughput per configuration, memory per configuration, and the phase
// breakdown of the configuration that asks for it.
import { row } from '../timing';
import type { Peak } from './peak';
import type { ConfigFailure, ConfigResult } from './run';
import type { PhaseTiming } from './step';

type Log = (line: string) => void;
export type Outcome = ConfigResult | ConfigFailure;

const isFailure = (o: Outcome): o is ConfigFailure => 'error' in o;
const mb = (bytes: number): string => (bytes / 2 ** 20).toFixed(1);
const tokens = (r: ConfigResult): number => r.B * r.bc.T;

export function throughputTable(outcomes: Outcome[], peak: Peak, log: Log): void {
  const W = [38, 8, 10, 9, 10, 9, 7, 10, 10, 8];
  log(row(['config', 'B x T', 'ms/step', 'tok/s', 'MFLOP/tok', 'GFLOP/s', 'MFU', 'mem MB', 'device MB', 'nll/lnV'], W));
  for (const o of outcomes) {
    if (isFailure(o)) {
      log(row([o.bc.name, `${o.bc.B} x ${o.bc.T}`, `${o.outOfMemory ? 'EXCEEDS MEMORY' : 'FAILED'}: ${o.error}`], W));
      continue;
    }
    const ms = o.step.medianMs;
    const tokPerS = tokens(o) / (ms / 1000);
    const gflops = (o.flops.perToken * tokPerS) / 1e9;
    const samples = `${o.step.ms.length}${o.tooSlow ? ' (too slow)' : ''}`;
    log(row([
      o.bc.name, `${o.B} x ${o.bc.T}`, ms.toFixed(0), tokPerS.toFixed(1), (o.flops.perToken / 1e6).toFixed(2),
      gflops.toFixed(2), `${((100 * gflops) / peak.gflops).toFixed(1)}%`, mb(o.memory.counted), mb(o.memory.device), (o.nll / Math.log(o.bc.cfg.V)).toFixed(3),
    ], W));
    log(`${''.padEnd(W[0])} ${samples} samples: ${o.step.ms.map((x) => x.toFixed(0)).join(', ')} ms; warm-up ${o.warmupMs.toFixed(0)} ms (${o.warmupCompiles.count} pipeline compiles: ${o.warmupCompiles.ms.toFixed(0)} ms); optimizer ${o.phases.get('optimizer')?.medianMs.toFixed(0)} ms; ${o.step.dispatches} dispatches, recording ${o.step.recordMs.toFixed(0)} ms${o.fellBack ? `; B=1 because B=${o.bc.B} took over ${(o.bc.fallbackAfterMs ?? 0) / 1000} s per step` : ''}`);
  }
}

export function memoryTable(outcomes: Outcome[], log: Log): void {
  const W = [38, 10, 10, 10, 12, 10, 10, 12];
  log(row(['config (MB)', 'params', 'grads', 'adam m+v', 'activations', 'other', 'mem', 'device peak'], W));
  for (const o of outcomes) {
    if (isFailure(o)) continue;
    const m = o.memory;
    const other = m.counted - m.params - m.grads - m.moments - m.activations;
    log(row([o.bc.name, mb(m.params), mb(m.grads), mb(m.moments), mb(m.activations), mb(other), mb(m.counted), mb(m.device)], W));
  }
}

export function paramTable(outcomes: Outcome[], log: Log): void {
  const W = [38, 12, 14, 12, 10];
  log(row(['config (M params)', 'total', 'non-embedding', 'P_mm', 'LoRA'], W));
  for (const o of outcomes) {
    if (isFailure(o)) continue;
    const f = o.flops;
    const m = (n: number): string => (n / 1e6).toFixed(3);
    log(row([o.bc.name, m(f.totalParams), m(f.nonEmbedding), m(f.matmulParams), f.loraParams ? m(f.loraParams) : '-'], W));
  }
}

export function phaseTable(r: ConfigResult, peak: Peak, log: Log): void {
  const W = [26, 10, 10, 11, 10, 24];
  const step = r.step.medianMs;
  log(row(['phase', 'ms', '% step', 'recording', 'dispatch', 'rate'], W));
  const show = (name: string, t: PhaseTiming, rate: string): void =>
    log(row([name, t.medianMs.toFixed(0), `${((100 * t.medianMs) / step).toFixed(1)}%`, t.recordMs.toFixed(0), t.dispatches, rate], W));
  const modelRate = (flopsPerToken: number, ms: number): string => `${((flopsPerToken * tokens(r)) / (ms * 1e6)).toFixed(2)} GFLOP/s`;
  const fwd = r.phases.get('forward');
  const fb = r.phases.get('forward+backward');
  const opt = r.phases.get('optimizer');
  // The forward is a third of the model FLOPs (2 of 6 per parameter; attention 4 of 12).
  if (fwd) show('forward alone', fwd, modelRate(r.flops.perToken / 3, fwd.medianMs));
  if (fwd && fb) {
    const ms = fb.medianMs - fwd.medianMs;
    log(row(['backward (fwd+bwd - fwd)', ms.toFixed(0), `${((100 * ms) / step).toFixed(1)}%`, '-', fb.dispatches - fwd.dispatches, modelRate((2 * r.flops.perToken) / 3, ms)], W));
  }
  if (fb) show('forward+backward', fb, modelRate(r.flops.perToken, fb.medianMs));
  // AdamW traffic per trainable parameter: the norm reads g; the update reads p, g, m, v and writes p, m, v.
  if (opt) show('optimizer (clip + AdamW)', opt, `${((32 * (r.flops.loraParams || r.flops.totalParams)) / (opt.medianMs * 1e6)).toFixed(2)} GB/s (32 B/param)`);
  show('full step', r.step, modelRate(r.flops.perToken, step));
  const ideal = (r.flops.perToken * tokens(r)) / (peak.gflops * 1e6);
  log(`the step's model FLOPs at the 1024^3 matmul rate would take ${ideal.toFixed(0)} ms (${((100 * ideal) / step).toFixed(0)}% of the measured step)`);
}
