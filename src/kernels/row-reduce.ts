// Row kernels (norms, cross-entropy, sampling, grad norm) reduce over a row with the functions of
// shaders/row_reduce_*.wgsl (row_sum, row_max, row_sum_u, row_min_u, and row_index / row_lane /
// row_stride to find their row). Three implementations share that interface; a launcher prepends
// one to its kernel source:
//   serial     one invocation per row, no barriers: CPU adapters (SwiftShader), where barriers are
//              expensive; measured 3-7x less CPU time there on norms, cross-entropy and grad norm
//   subgroups  one workgroup per row, subgroup reductions (2 barriers per reduction): GPUs
//   workgroup  one workgroup per row, a tree in workgroup memory: GPUs without subgroups
import serialLib from '../../shaders/row_reduce_serial.wgsl?raw';
import subgroupLib from '../../shaders/row_reduce_subgroup.wgsl?raw';
import workgroupLib from '../../shaders/row_reduce_workgroup.wgsl?raw';
import type { Engine } from '../gpu/engine';
import { ceilDiv, grid1d } from './grid';

export type RowVariant = 'serial' | 'subgroups' | 'workgroup';

export interface RowVariantOptions {
  /** Force a variant (tests, benchmarks); default: serial on CPU adapters, else subgroups when offered, else workgroup. */
  variant?: RowVariant;
}

const LIBS: Record<RowVariant, string> = { serial: serialLib, subgroups: subgroupLib, workgroup: workgroupLib };

/** Invocations per workgroup in the serial variant: one SIMD group of SwiftShader, and many workgroups for few rows. */
const SERIAL_WG = 4;

export interface RowLayout {
  variant: RowVariant;
  /** Workgroup size (the kernel's WG override). */
  WG: number;
  /** The dispatch for `rows` rows. */
  grid: [number, number];
  /** `code` with the reduction library prepended (the subgroup one starts with `enable subgroups;`). */
  code: string;
}

/** The variant used when none is forced: serial on CPU adapters, else subgroups when offered, else workgroup. */
export function defaultRowVariant(e: Engine): RowVariant {
  return e.gpu.adapter.isSoftware ? 'serial' : e.gpu.hasSubgroups ? 'subgroups' : 'workgroup';
}

/**
 * Picks the variant and lays out `rows` rows: one workgroup of `blockWG` invocations per row, or
 * SERIAL_WG rows per workgroup in the serial variant. Throws when subgroups are forced on an adapter without them.
 */
export function rowLayout(e: Engine, opts: RowVariantOptions | undefined, kernel: string, body: string, rows: number, blockWG: number): RowLayout {
  const variant = opts?.variant ?? defaultRowVariant(e);
  if (variant === 'subgroups' && !e.gpu.hasSubgroups) throw new Error(`${kernel}: the subgroups variant was requested but the adapter lacks the "subgroups" feature`);
  const WG = variant === 'serial' ? SERIAL_WG : blockWG;
  const groups = variant === 'serial' ? ceilDiv(rows, WG) : rows;
  return { variant, WG, grid: grid1d(groups, e.gpu.limits.maxComputeWorkgroupsPerDimension), code: `${LIBS[variant]}\n${body}` };
}
