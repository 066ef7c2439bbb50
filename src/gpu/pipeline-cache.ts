// Pipeline cache: one compiled compute pipeline per (WGSL source, entry point, override constants).
// Compiled with createComputePipelineAsync inside a validation error scope; a compile error
// is reported with the offending WGSL lines.
import type { Gpu } from './device';
import { GpuValidationError } from './errors';

export type Constants = Record<string, number>;

export interface PipelineSpec {
  /** Names the kernel and its specialisation in errors and in GPU debuggers. */
  label: string;
  code: string;
  entryPoint?: string;
  constants?: Constants;
}

/** The WGSL lines around `line` (1-based), numbered, with a caret under `col`. */
export function wgslExcerpt(code: string, line: number, col = 0, context = 3): string {
  const lines = code.split('\n');
  const from = Math.max(1, line - context);
  const to = Math.min(lines.length, line + context);
  const out: string[] = [];
  for (let i = from; i <= to; i++) {
    out.push(`${i === line ? '>' : ' '} ${String(i).padStart(4)} | ${lines[i - 1]}`);
    if (i === line && col > 0) out.push(`       | ${' '.repeat(col - 1)}^`);
  }
  return out.join('\n');
}

function compileReport(spec: PipelineSpec, messages: readonly GPUCompilationMessage[]): string {
  return messages
    .map((m) => `${m.type} at line ${m.lineNum}:${m.linePos}: ${m.message}\n${wgslExcerpt(spec.code, m.lineNum, m.linePos)}`)
    .join('\n\n');
}

export class PipelineCache {
  private pipelines = new Map<string, Promise<GPUComputePipeline>>();
  /** Compiles finished (or failed) so far, and their summed wall time in ms: what start-up pays. */
  compiles = 0;
  compileMs = 0;

  constructor(private readonly gpu: Gpu) {}

  get size(): number {
    return this.pipelines.size;
  }

  get(spec: PipelineSpec): Promise<GPUComputePipeline> {
    const key = `${spec.entryPoint ?? 'main'}\u0000${JSON.stringify(spec.constants ?? {})}\u0000${spec.code}`;
    let p = this.pipelines.get(key);
    if (!p) {
      p = this.compile(spec);
      // A failed compile is not cached: the caller sees the error, a retry compiles again.
      p.catch(() => this.pipelines.delete(key));
      this.pipelines.set(key, p);
    }
    return p;
  }

  private async compile(spec: PipelineSpec): Promise<GPUComputePipeline> {
    const t0 = performance.now();
    try {
      return await this.build(spec);
    } finally {
      this.compiles++;
      this.compileMs += performance.now() - t0;
    }
  }

  private async build(spec: PipelineSpec): Promise<GPUComputePipeline> {
    const { device } = this.gpu;
    device.pushErrorScope('validation');
    const module = device.createShaderModule({ code: spec.code, label: spec.label });
    const info = await module.getCompilationInfo();
    const scopeError = await device.popErrorScope();
    const errors = info.messages.filter((m) => m.type === 'error');
    if (errors.length) throw new GpuValidationError(`WGSL compile error in ${spec.label}:\n${compileReport(spec, errors)}`, spec.label);
    if (scopeError) throw new GpuValidationError(scopeError.message, spec.label);
    try {
      return await device.createComputePipelineAsync({
        label: spec.label,
        layout: 'auto',
        compute: { module, entryPoint: spec.entryPoint ?? 'main', constants: spec.constants },
      });
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      throw new GpuValidationError(`pipeline creation failed for ${spec.label}: ${msg}\n${compileReport(spec, info.messages)}`, spec.label);
    }
  }
}
