// Device acquisition: one adapter, the limits that matter raised to what it offers,
// optional features when offered, and every failure surfaced as a typed error.
import {
  AdapterUnavailableError,
  DeviceLostError,
  GpuError,
  GpuOutOfMemoryError,
  GpuValidationError,
  LimitTooSmallError,
  MissingFeatureError,
  WebGPUUnavailableError,
} from './errors';

/** Limits Plantune raises to the adapter's maximum: big buffers, many bindings, big workgroups. */
const RAISED_LIMITS = [
  'maxBufferSize',
  'maxStorageBufferBindingSize',
  'maxComputeWorkgroupStorageSize',
  'maxStorageBuffersPerShaderStage',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupsPerDimension',
] as const;

/** Features used when the adapter offers them (kernels pick variants accordingly). */
const OPTIONAL_FEATURES: GPUFeatureName[] = ['shader-f16', 'subgroups', 'timestamp-query'];

export type LimitName = (typeof RAISED_LIMITS)[number];

export interface GpuOptions {
  /** Features the caller cannot do without: a clear error when the adapter lacks one. */
  requiredFeatures?: GPUFeatureName[];
  /** Minimum limits the caller needs: a clear error when the adapter offers less. */
  requiredLimits?: Partial<Record<LimitName, number>>;
  powerPreference?: GPUPowerPreference;
  /** For tests: acquire from this object instead of `navigator.gpu`. */
  gpu?: GPU | undefined;
  /**
   * Largest storage binding kernels may use, in bytes (default: the adapter's maxStorageBufferBindingSize).
   * Tests lower it to run the split-binding paths on tiny models; it cannot exceed the device's limit.
   */
  bindingLimit?: number;
}

export interface AdapterSummary {
  name: string;
  vendor: string;
  architecture: string;
  description: string;
  /** True for CPU implementations (SwiftShader): kernel variants differ. */
  isSoftware: boolean;
}

export type GpuErrorListener = (error: GpuError) => void;

export class Gpu {
  readonly features: ReadonlySet<string>;
  readonly hasF16: boolean;
  readonly hasSubgroups: boolean;
  readonly hasTimestamps: boolean;
  /** Resolves when the device is lost; never rejects. */
  readonly lost: Promise<DeviceLostError>;
  private lostError: DeviceLostError | null = null;
  private pendingErrors: GpuError[] = [];
  private listeners = new Set<GpuErrorListener>();
  private forcedBindingLimit: number | null = null;

  constructor(
    readonly device: GPUDevice,
    readonly adapter: AdapterSummary,
  ) {
    this.features = new Set(device.features);
    this.hasF16 = this.features.has('shader-f16');
    this.hasSubgroups = this.features.has('subgroups');
    this.hasTimestamps = this.features.has('timestamp-query');
    this.lost = device.lost.then((info) => {
      const err = new DeviceLostError(info.reason ?? 'unknown', info.message ?? '');
      this.lostError = err;
      this.emit(err);
      return err;
    });
    device.addEventListener('uncapturederror', (ev) => {
      const e = (ev as GPUUncapturedErrorEvent).error;
      const err =
        e instanceof GPUOutOfMemoryError ? new GpuOutOfMemoryError('running a GPU command') : new GpuValidationError(e.message);
      this.pendingErrors.push(err);
      this.emit(err);
    });
  }

  get limits(): GPUSupportedLimits {
    return this.device.limits;
  }

  /**
   * Largest storage-buffer range one kernel binding may cover, in bytes: the device's
   * maxStorageBufferBindingSize unless lowered. Launchers split tensors larger than this into
   * chunks (see src/kernels/split.ts); the recorder refuses any binding above it.
   */
  get bindingLimit(): number {
    return this.forcedBindingLimit ?? this.limits.maxStorageBufferBindingSize;
  }

  /** Lower the binding limit (tests); `null` restores the device's limit. */
  set bindingLimit(bytes: number | null) {
    const max = this.limits.maxStorageBufferBindingSize;
    const align = this.limits.minStorageBufferOffsetAlignment;
    if (bytes !== null && !(Number.isInteger(bytes) && bytes >= align && bytes <= max)) {
      throw new RangeError(`bindingLimit must be an integer number of bytes in [${align}, ${max}] (minStorageBufferOffsetAlignment .. maxStorageBufferBindingSize), got ${bytes}`);
    }
    this.forcedBindingLimit = bytes === null || bytes === max ? null : bytes;
  }

  get isLost(): boolean {
    return this.lostError !== null;
  }

  /** Subscribe to device-lost and uncaptured errors; returns an unsubscribe function. */
  onError(listener: GpuErrorListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Throws the device-lost error, or the first uncaptured error since the last call. */
  throwIfFailed(): void {
    if (this.lostError) throw this.lostError;
    const err = this.pendingErrors.shift();
    if (err) {
      this.pendingErrors = [];
      throw err;
    }
  }

  destroy(): void {
    this.device.destroy();
  }

  private emit(err: GpuError): void {
    for (const l of this.listeners) l(err);
  }
}

function summarize(adapter: GPUAdapter): AdapterSummary {
  const info = adapter.info;
  const parts = [info.vendor, info.architecture, info.device, info.description].filter((s) => s);
  const name = parts.join(' / ') || 'unknown adapter';
  const isSoftware = /swiftshader|llvmpipe|lavapipe|software|microsoft basic/i.test(`${name} ${info.architecture}`);
  return { name, vendor: info.vendor, architecture: info.architecture, description: info.description, isSoftware };
}

/** Acquire a device with the adapter's own limits and optional features. Works in a page and in a worker. */
export async function acquireGpu(opts: GpuOptions = {}): Promise<Gpu> {
  const gpu = opts.gpu ?? (typeof navigator !== 'undefined' ? navigator.gpu : undefined);
  if (!gpu) throw new WebGPUUnavailableError(typeof navigator === 'undefined' ? 'no navigator' : 'navigator.gpu is undefined');
  const adapter = await gpu.requestAdapter({ powerPreference: opts.powerPreference ?? 'high-performance' });
  if (!adapter) throw new AdapterUnavailableError();
  const summary = summarize(adapter);

  const missing = (opts.requiredFeatures ?? []).filter((f) => !adapter.features.has(f));
  if (missing.length) throw new MissingFeatureError(missing, summary.name);

  const requiredLimits: Record<string, number> = {};
  for (const name of RAISED_LIMITS) requiredLimits[name] = adapter.limits[name];
  for (const [name, need] of Object.entries(opts.requiredLimits ?? {})) {
    const have = adapter.limits[name as LimitName];
    if (need !== undefined && have < need) throw new LimitTooSmallError(name, need, have, summary.name);
  }

  const features = new Set<GPUFeatureName>(opts.requiredFeatures ?? []);
  for (const f of OPTIONAL_FEATURES) if (adapter.features.has(f)) features.add(f);

  const device = await adapter.requestDevice({ requiredFeatures: [...features], requiredLimits });
  const result = new Gpu(device, summary);
  if (opts.bindingLimit !== undefined) result.bindingLimit = opts.bindingLimit;
  return result;
}
