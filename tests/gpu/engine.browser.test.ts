import { describe, expect, it } from 'vitest';
import { acquireGpu } from '../../src/gpu/device';
import { Engine } from '../../src/gpu/engine';
import { DeviceLostError, LimitTooSmallError, MissingFeatureError, WebGPUUnavailableError } from '../../src/gpu/errors';
import { createTensor, readF32 } from '../../src/gpu/transfer';
import { testEngine } from '../helpers/gpu';

const e = await testEngine();

describe(`GPU engine on ${e.gpu.adapter.name}`, () => {
  it('names the adapter and its features', () => {
    console.log(`adapter: ${e.gpu.adapter.name}; features: ${[...e.gpu.features].join(', ')}`);
    expect(e.gpu.adapter.name.length).toBeGreaterThan(0);
    expect(e.gpu.limits.maxStorageBufferBindingSize).toBeGreaterThanOrEqual(128 * 1024 * 1024);
  });

  it('reports a WGSL compile error with the offending line', async () => {
    const code = ['@group(0) @binding(0) var<storage, read_write> o: array<f32>;', '@compute @workgroup_size(1)', 'fn main() {', '  o[0] = undefined_name + 1.0;', '}'].join('\n');
    const err = await e.pipelines.get({ label: 'broken', code }).then(() => null, (x: Error) => x);
    expect(err).not.toBeNull();
    expect(err!.message).toContain('WGSL compile error in broken');
    expect(err!.message).toContain('line 4');
    expect(err!.message).toContain('>    4 |   o[0] = undefined_name + 1.0;');
  });

  it('caches pipelines by source and constants, and counts the compiles and their time', async () => {
    const code = 'override K: f32 = 1.0;\n@group(0) @binding(0) var<storage, read_write> o: array<f32>;\n@compute @workgroup_size(1) fn main() { o[0] = K; }';
    const [compiles, ms] = [e.pipelines.compiles, e.pipelines.compileMs];
    const a = await e.pipelines.get({ label: 'k', code, constants: { K: 2 } });
    const b = await e.pipelines.get({ label: 'k', code, constants: { K: 2 } });
    const c = await e.pipelines.get({ label: 'k', code, constants: { K: 3 } });
    expect(a).toBe(b);
    expect(c).not.toBe(a);
    expect(e.pipelines.compiles - compiles).toBe(2); // the cache hit compiled nothing
    expect(e.pipelines.compileMs).toBeGreaterThan(ms);
    const out = e.pool.tensor([1]);
    e.rec.dispatch(c, [out], [1]);
    e.rec.submit();
    expect(Array.from(await readF32(e.gpu, out))).toEqual([3]);
    e.pool.release(out);
  });

  it('records many dispatches into one submit, with uniforms', async () => {
    const code = `struct P { add: f32 }
@group(0) @binding(0) var<storage, read_write> o: array<f32>;
@group(0) @binding(1) var<uniform> p: P;
@compute @workgroup_size(1) fn main() { o[0] = o[0] + p.add; }`;
    const pipe = await e.pipelines.get({ label: 'acc', code });
    const out = createTensor(e.gpu, new Float32Array([0]), [1]);
    for (let i = 1; i <= 300; i++) e.rec.dispatch(pipe, [out, e.rec.params([['f32', i]])], [1]);
    e.rec.submit();
    expect((await readF32(e.gpu, out))[0]).toBe((300 * 301) / 2); // 300 > 256 slots: the arena flushed once
  });

  it('reuses pooled buffers and tracks current and peak bytes', () => {
    const before = { ...e.pool.stats };
    const a = e.pool.tensor([1000]);
    const b = e.pool.tensor([1000]);
    e.pool.release(a);
    const c = e.pool.tensor([1001]); // same size class as a: reused
    expect(c.buffer).toBe(a.buffer);
    expect(e.pool.stats.reuses).toBe(before.reuses + 1);
    expect(e.pool.stats.peak).toBeGreaterThanOrEqual(e.pool.stats.inUse);
    e.pool.release(b);
    e.pool.release(c);
    expect(e.pool.stats.inUse).toBe(before.inUse);
    expect(() => e.pool.release(c)).toThrow('released twice');
  });

  it('refuses a feature the adapter lacks, naming it', async () => {
    const adapter = await navigator.gpu.requestAdapter();
    const all: GPUFeatureName[] = ['shader-f16', 'timestamp-query', 'texture-compression-astc', 'texture-compression-etc2', 'float32-blendable', 'clip-distances', 'dual-source-blending', 'subgroups'];
    const missing = all.find((f) => !adapter!.features.has(f));
    expect(missing, 'this adapter offers every feature we could test with').toBeDefined();
    const err = await acquireGpu({ requiredFeatures: [missing!] }).then(() => null, (x: Error) => x);
    expect(err).toBeInstanceOf(MissingFeatureError);
    expect(err!.message).toContain(`"${missing}"`);
  });

  it('refuses a limit above what the adapter offers, with what to do', async () => {
    const need = e.gpu.limits.maxBufferSize * 4;
    const err = await acquireGpu({ requiredLimits: { maxBufferSize: need } }).then(() => null, (x: Error) => x);
    expect(err).toBeInstanceOf(LimitTooSmallError);
    expect(err!.message).toMatch(/maxBufferSize = \d+, but \d+ is needed. Reduce/);
  });

  it('says what to do when WebGPU is absent', async () => {
    const saved = Object.getOwnPropertyDescriptor(Navigator.prototype, 'gpu')!;
    Object.defineProperty(Navigator.prototype, 'gpu', { get: () => undefined, configurable: true });
    try {
      const absent = await acquireGpu().then(() => null, (x: Error) => x);
      expect(absent).toBeInstanceOf(WebGPUUnavailableError);
      expect(absent!.message).toContain('Chrome or Edge 113+');
    } finally {
      Object.defineProperty(Navigator.prototype, 'gpu', saved);
    }
  });

  it('delivers device loss to the caller as a DeviceLostError', async () => {
    const own = await Engine.create();
    const seen: Error[] = [];
    own.gpu.onError((x) => seen.push(x));
    own.gpu.destroy();
    const lost = await own.gpu.lost;
    expect(lost).toBeInstanceOf(DeviceLostError);
    expect(lost.reason).toBe('destroyed');
    expect(seen[0]).toBe(lost);
    expect(() => own.rec.submit()).toThrow(DeviceLostError);
  });
});
