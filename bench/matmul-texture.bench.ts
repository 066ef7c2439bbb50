// Would reading A and B through rgba32float textures beat storage-buffer loads on this adapter?
//   node scripts/run-in-browser.mjs bench/matmul-texture.bench.ts [M,N,K] [R,J,KU ...]
// On SwiftShader a storage load with a runtime index is a per-lane scalar load (mask test, branch,
// load, insert: about 45 x86 instructions per 4 lanes), while textureLoad calls a sampler routine
// that fetches a whole texel (4 floats) per lane with vector loads (about 150 instructions per 4
// lanes). This times subgroup-rb NN as matmul builds it against an NN kernel of the same shape whose
// lanes each own 4 adjacent columns and fetch texels: A as a (K/4) x M texture, B as (N/4) x K.
// Texture upload is outside the timing (a real variant would pay a packing pass). The texture kernel
// is checked on 200 random entries against a float64 dot product; M, N, K must be multiples of the
// tile (no edge handling). Medians of interleaved rounds.
import type { HeadlessContext } from '../src/cli/headless-entry';
import { Engine } from '../src/gpu/engine';
import { createTensor, readF32 } from '../src/gpu/transfer';
import { ceilDiv } from '../src/kernels/grid';
import { plainMatmulParams } from '../src/kernels/matmul';
import { type SubgroupRbSpec, subgroupRbTile, subgroupRbWgsl } from '../src/kernels/matmul/subgroup-rb';
import { scratch } from '../src/kernels/scratch';
import { interleavedMedians, row } from './timing';

const ROUNDS = 11;
const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
const XYZW = ['x', 'y', 'z', 'w'];

/** NN through textures: a subgroup owns R x 4J of C, lane l the texel columns n0/4 + 4q + l (q < J/4). */
function textureWgsl(R: number, J: number, KU: number, SGC: number): string {
  const Q = J / 4;
  const L = [
    'enable subgroups;',
    'diagnostic(off, subgroup_uniformity);',
    '@group(0) @binding(0) var<storage, read_write> C: array<f32>;',
    '@group(0) @binding(1) var At: texture_2d<f32>;',
    '@group(0) @binding(2) var Bt: texture_2d<f32>;',
    '@group(0) @binding(3) var<uniform> dims: vec4u;',
    `@compute @workgroup_size(${4 * SGC})`,
    'fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32, @builtin(subgroup_invocation_id) lane: u32) {',
    `  let m0 = wid.y * ${R}u;`,
    `  let n0 = (wid.x * ${SGC}u + lid / 4u) * ${4 * J}u;`,
    '  let tx0 = n0 / 4u + lane;',
  ];
  for (const r of range(R)) for (const q of range(Q)) L.push(`  var c${r}_${q} = vec4f(0.0);`);
  L.push('  for (var k = 0u; k < dims.z; k += ' + `${KU}u) {`);
  for (const h of range(KU / 4)) {
    // Lane l fetches A[m0 + 4g + l, k + 4h .. + 3]; every lane fetches its 4 columns of B for 4 k.
    for (const g of range(R / 4)) L.push(`    let a${g}_${h} = textureLoad(At, vec2u(k / 4u + ${h}u, m0 + ${4 * g}u + lane), 0);`);
    for (const i of range(4)) for (const q of range(Q)) L.push(`    let b${4 * h + i}_${q} = textureLoad(Bt, vec2u(tx0 + ${4 * q}u, k + ${4 * h + i}u), 0);`);
  }
  for (const r of range(R)) {
    for (const i of range(KU)) L.push(`    let x${r}_${i} = vec4f(subgroupBroadcast(a${r >> 2}_${i >> 2}.${XYZW[i & 3]}, ${r & 3}u));`);
    for (const q of range(Q)) {
      let acc = `c${r}_${q}`;
      for (const i of range(KU)) acc = `fma(x${r}_${i}, b${i}_${q}, ${acc})`;
      L.push(`    c${r}_${q} = ${acc};`);
    }
  }
  L.push('  }');
  for (const r of range(R)) for (const q of range(Q)) for (const e of range(4)) L.push(`  C[(m0 + ${r}u) * dims.y + 4u * (tx0 + ${4 * q}u) + ${e}u] = c${r}_${q}.${XYZW[e]};`);
  L.push('}');
  return L.join('\n');
}

export default async (ctx: HeadlessContext) => {
  const [M, N, K] = ctx.args[0] ? ctx.args[0].split(',').map(Number) : [1024, 1024, 1024];
  const tiles = ctx.args.length > 1 ? ctx.args.slice(1) : ['32,16,8', '64,16,8'];
  const e = await Engine.create();
  const dev = e.gpu.device;
  const random = (n: number) => Float32Array.from({ length: n }, () => Math.random() * 2 - 1);
  const ha = random(M * K);
  const hb = random(K * N);
  const time = async (record: () => void): Promise<number> => {
    record();
    const t0 = performance.now();
    e.rec.submit();
    await e.rec.done();
    return performance.now() - t0;
  };
  const runs: { name: string; go: () => Promise<number> }[] = [];

  // Storage buffers: subgroup-rb as matmul generates it.
  const a = createTensor(e.gpu, ha, [M, K]);
  const b = createTensor(e.gpu, hb, [K, N]);
  const c = e.pool.tensor([M, N]);
  const bias = scratch(e, 'matmul no bias', [4]);
  const bufferSpec: SubgroupRbSpec = { R: 32, J: 16, SGR: 1, SGC: 4, KU: 8 };
  let t0 = performance.now();
  const bufferPipe = await e.pipelines.get({ label: 'matmul_texture_bench_buffer', code: subgroupRbWgsl(bufferSpec) });
  ctx.log(`buffer 32,16,8 compiled in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const bufferTile = subgroupRbTile(bufferSpec);
  runs.push({
    name: 'buffer 32,16,8',
    go: () =>
      time(() => {
        const params = e.rec.params(plainMatmulParams(M, N, K));
        e.rec.dispatch(bufferPipe, [c, bias, params, a, b], [ceilDiv(N, bufferTile.cols), ceilDiv(M, bufferTile.rows), 1]);
      }),
  });

  // Textures: texel (x, y) of A holds A[y, 4x .. 4x + 3]; of B, B[y, 4x .. 4x + 3].
  const texture = (data: Float32Array, rows: number, cols: number): GPUTexture => {
    const t = dev.createTexture({ size: [cols / 4, rows], format: 'rgba32float', usage: GPUTextureUsage.TEXTURE_BINDING | GPUTextureUsage.COPY_DST });
    dev.queue.writeTexture({ texture: t }, new Float32Array(data), { bytesPerRow: cols * 4 }, [cols / 4, rows]);
    return t;
  };
  const views = [texture(ha, M, K).createView(), texture(hb, K, N).createView()];
  const cTex = e.pool.tensor([M, N]);
  const dims = dev.createBuffer({ size: 16, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  dev.queue.writeBuffer(dims, 0, new Uint32Array([M, N, K, 0]));
  for (const t of tiles) {
    const [R, J, KU, SGC = 4] = t.split(',').map(Number);
    if (M % R || N % (4 * J * SGC) || K % KU || J % 4 || KU % 4) throw new RangeError(`matmul-texture: ${M}x${N}x${K} is not a multiple of tile ${t}`);
    t0 = performance.now();
    const module = dev.createShaderModule({ code: textureWgsl(R, J, KU, SGC) });
    const pipe = await dev.createComputePipelineAsync({ layout: 'auto', compute: { module, entryPoint: 'main' } });
    ctx.log(`texture ${t} compiled in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const group = dev.createBindGroup({
      layout: pipe.getBindGroupLayout(0),
      entries: [{ binding: 0, resource: { buffer: cTex.buffer, offset: cTex.offset, size: M * N * 4 } }, { binding: 1, resource: views[0] }, { binding: 2, resource: views[1] }, { binding: 3, resource: { buffer: dims } }],
    });
    const go = async (): Promise<number> => {
      const enc = dev.createCommandEncoder();
      const pass = enc.beginComputePass();
      pass.setPipeline(pipe);
      pass.setBindGroup(0, group);
      pass.dispatchWorkgroups(N / (4 * J * SGC), M / R);
      pass.end();
      const t1 = performance.now();
      dev.queue.submit([enc.finish()]);
      await dev.queue.onSubmittedWorkDone();
      return performance.now() - t1;
    };
    await go();
    const out = await readF32(e.gpu, cTex);
    let worst = 0;
    for (let s = 0; s < 200; s++) {
      const m = Math.floor(Math.random() * M);
      const n = Math.floor(Math.random() * N);
      let ref = 0;
      for (let k = 0; k < K; k++) ref += ha[m * K + k] * hb[k * N + n];
      worst = Math.max(worst, Math.abs(out[m * N + n] - ref) / Math.max(1, Math.abs(ref)));
    }
    if (!(worst < 1e-4)) throw new Error(`matmul-texture: tile ${t} is wrong (worst error ${worst})`);
    runs.push({ name: `texture ${t}`, go });
  }

  const ms = await interleavedMedians(runs.map((r) => r.go), ROUNDS);
  const W = [16, 10, 10];
  ctx.log(`${M}x${N}x${K} NN on ${e.gpu.adapter.name}, medians of ${ROUNDS} interleaved rounds`);
  ctx.log(row(['loads', 'ms', 'GFLOP/s'], W));
  runs.forEach((r, i) => {
    const t = ms[i];
    ctx.log(row([r.name, t.toFixed(1), ((2 * M * N * K) / (t * 1e6)).toFixed(2)], W));
  });
  e.gpu.destroy();
};
