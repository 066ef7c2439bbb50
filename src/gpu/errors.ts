// Typed errors for everything that can go wrong between the page and the GPU.
// Each message says what is missing and what the user can do about it.

export class GpuError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** `navigator.gpu` is absent: the browser has no WebGPU, or it is switched off. */
export class WebGPUUnavailableError extends GpuError {
  constructor(detail = '') {
    super(
      'WebGPU is not available in this browser' + (detail ? ` (${detail})` : '') + '. ' +
        'Use Chrome or Edge 113+ (desktop) or a browser with WebGPU enabled; on Linux start Chromium with ' +
        '--enable-unsafe-webgpu (and --use-webgpu-adapter=swiftshader --enable-unsafe-swiftshader when there is no GPU).',
    );
  }
}

/** `requestAdapter()` returned null: WebGPU exists but no adapter could be had. */
export class AdapterUnavailableError extends GpuError {
  constructor() {
    super(
      'WebGPU is present but no GPU adapter was found. Check that hardware acceleration is on ' +
        '(chrome://settings/system) and that the GPU is not blocklisted (chrome://gpu); ' +
        'without a GPU, Chromium can use SwiftShader: --use-webgpu-adapter=swiftshader --enable-unsafe-swiftshader.',
    );
  }
}

export class MissingFeatureError extends GpuError {
  constructor(
    readonly features: string[],
    readonly adapterName: string,
  ) {
    super(
      `The GPU adapter "${adapterName}" does not offer the WebGPU feature(s) ${features.map((f) => `"${f}"`).join(', ')}. ` +
        'Use a kernel variant that does not need them, or a browser/GPU that offers them.',
    );
  }
}

export class LimitTooSmallError extends GpuError {
  constructor(
    readonly limit: string,
    readonly required: number,
    readonly available: number,
    readonly adapterName: string,
  ) {
    super(
      `The GPU adapter "${adapterName}" offers ${limit} = ${available}, but ${required} is needed. ` +
        'Reduce the model size, batch size or sequence length, or use a GPU with a larger limit.',
    );
  }
}

/** The device was lost (driver reset, tab backgrounded too long, `destroy()`): all GPU state is gone. */
export class DeviceLostError extends GpuError {
  constructor(
    readonly reason: string,
    readonly detail: string,
  ) {
    super(`The GPU device was lost (${reason}${detail ? `: ${detail}` : ''}). GPU buffers are gone; resume from the last checkpoint.`);
  }
}

/** A WebGPU validation or internal error, with the WGSL lines around it when it came from a shader. */
export class GpuValidationError extends GpuError {
  constructor(
    message: string,
    readonly label = '',
  ) {
    super(label ? `[${label}] ${message}` : message);
  }
}

export class GpuOutOfMemoryError extends GpuError {
  constructor(what: string) {
    super(`The GPU ran out of memory while ${what}. Reduce the batch size, sequence length or model size, or use LoRA.`);
  }
}

/**
 * A kernel would bind a tensor larger than the binding limit (the adapter's maxStorageBufferBindingSize)
 * and has no split for it: raised before WebGPU sees the binding, naming the tensor.
 */
export class BindingTooLargeError extends GpuError {
  constructor(
    readonly what: string,
    readonly bytes: number,
    readonly limit: number,
  ) {
    super(
      `${what} needs ${bytes} bytes in one storage binding, more than this adapter's limit of ${limit} bytes ` +
        '(maxStorageBufferBindingSize), and it cannot be split further. Reduce the batch size, sequence length or model size.',
    );
  }
}
