// The typed API the trainer worker exposes through Comlink. The page only sees this interface.

export interface GpuDescription {
  ok: true;
  adapter: string;
  isSoftware: boolean;
  features: string[];
  limits: { maxBufferSize: number; maxStorageBufferBindingSize: number; maxComputeInvocationsPerWorkgroup: number };
}

export interface GpuUnavailable {
  ok: false;
  /** What is missing and what the user can do. */
  message: string;
}

export interface TrainerApi {
  /** Acquires the GPU (once) and describes it, or says why there is none. */
  describeGpu(): Promise<GpuDescription | GpuUnavailable>;
}
