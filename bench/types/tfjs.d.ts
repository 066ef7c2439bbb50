// Types for the bench-only tfjs imports. tfjs 4.22's own declarations pull in an old
// @webgpu/types (0.1.38) whose global GPUFeatureName lacks 'subgroups' and breaks the project's
// WebGPU types, so tsconfig maps both packages here; Vite still bundles the real ones.
// Only what bench/kernels/matmul.ts uses is declared.
export interface Tensor {
  readonly shape: number[];
}
export interface TimingInfo {
  wallMs: number;
  kernelMs: number | { error: string };
}
export const version_core: string;
export function setBackend(name: string): Promise<boolean>;
export function getBackend(): string;
export function ready(): Promise<void>;
export function randomUniform(shape: number[], minval?: number, maxval?: number): Tensor;
export function matMul(a: Tensor, b: Tensor, transposeA?: boolean, transposeB?: boolean): Tensor;
export function time(f: () => void): Promise<TimingInfo>;
export function dispose(tensors: Tensor | Tensor[]): void;
