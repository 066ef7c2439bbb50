// Where subgroup-rb's time goes on this adapter, tile by tile:
//   node scripts/run-in-browser.mjs bench/matmul-ceiling.bench.ts [M,N,K] [R,J,KU[,SGC] ...]
// Times the NN kernel (1024^3 by default) three ways: as generated; with every load inside the k
// loops reading a constant index instead (the cheapest load SwiftShader emits: one scalar load
// splat to the 4 lanes, where a computed index costs a gather of 4 branchy scalar loads); and with
// every such load replaced by a value loaded once before the loops (the same loops, fma grid and
// accumulators with free loads, i.e. the most any load scheme could give that tile). The last two
// outputs are not products (not checked); the GFLOP/s are 2MNK over the time, medians of
// interleaved rounds. The tiles (R rows x 4J columns per subgroup, KU k per step, SGC subgroups per workgroup)
// default to matmul's choice for big problems (32,16,8), the previous one (32,8,4) and 64,16,8.
import type { HeadlessContext } from '../src/cli/headless-entry';
import { Engine } from '../src/gpu/engine';
import { createTensor } from '../src/gpu/transfer';
import { ceilDiv } from '../src/kernels/grid';
import { plainMatmulParams } from '../src/kernels/matmul';
import { type SubgroupRbSpec, subgroupRbTile, subgroupRbWgsl } from '../src/kernels/matmul/subgroup-rb';
import { scratch } from '../src/kernels/scratch';
import { interleavedMedians, row } from './timing';

const ROUNDS = 5;

type Loads = 'as generated' | 'constant index' | 'free loads';

interface Case {
  loads: Loads;
  R: number;
  J: number;
  KU: number;
  SGC: number;
}

/** Tiles to time: `R,J,KU[,SGC]` tuples from the command line, else these. */
const DEFAULT_TILES = ['32,16,8', '32,8,4', '64,16,8'];

const cases = (tiles: string[]): Case[] =>
  tiles.flatMap((t) => {
    const [R, J, KU, SGC = 4] = t.split(',').map(Number);
    return (['as generated', 'constant index', 'free loads'] as const).map((loads) => ({ loads, R, J, KU, SGC }));
  });

const spec = (c: Case): SubgroupRbSpec => ({ R: c.R, J: c.J, SGR: 1, SGC: c.SGC, KU: c.KU });

/** The kernel's WGSL, its loads `= A[…];` / `= B[…];` (all inside the k loops) rewritten as `c.loads` says. */
function code(c: Case): string {
  const wgsl = subgroupRbWgsl(spec(c));
  if (c.loads === 'as generated') return wgsl;
  const load = /= ([AB])\[[^\]]+\];/g;
  if (!load.test(wgsl) || !wgsl.includes('  var k = k0;')) throw new Error('matmul-ceiling: the generated kernel no longer has the loads this benchmark replaces');
  if (c.loads === 'constant index') {
    let site = 0;
    return wgsl.replace(load, (_, m: string) => `= ${m}[${site++}u];`);
  }
  const freed = wgsl.replace(load, (_, m: string) => `= ${m.toLowerCase()}0;`);
  return freed.replace('  var k = k0;', '  let a0 = A[lane];\n  let b0 = B[lane];\n  var k = k0;');
}

export default async (ctx: HeadlessContext) => {
  const CASES = cases(ctx.args.length > 1 ? ctx.args.slice(1) : DEFAULT_TILES);
  const [M, N, K] = ctx.args[0] ? ctx.args[0].split(',').map(Number) : [1024, 1024, 1024];
  const e = await Engine.create();
  const random = (n: number) => Float32Array.from({ length: n }, () => Math.random() * 2 - 1);
  const a = createTensor(e.gpu, random(M * K), [M, K]);
  const b = createTensor(e.gpu, random(K * N), [K, N]);
  const c = e.pool.tensor([M, N]);
  const bias = scratch(e, 'matmul no bias', [4]);
  const pipelines: GPUComputePipeline[] = [];
  for (const [i, k] of CASES.entries()) {
    const t0 = performance.now();
    pipelines.push(await e.pipelines.get({ label: `matmul_ceiling_${i}`, code: code(k) }));
    if (k.loads === 'as generated') ctx.log(`${k.R}x${4 * k.J} KU ${k.KU}: compiled in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  const once = async (i: number): Promise<number> => {
    const tile = subgroupRbTile(spec(CASES[i]));
    const params = e.rec.params(plainMatmulParams(M, N, K));
    e.rec.dispatch(pipelines[i], [c, bias, params, a, b], [ceilDiv(N, tile.cols), ceilDiv(M, tile.rows), 1]);
    const t0 = performance.now();
    e.rec.submit();
    await e.rec.done();
    return performance.now() - t0;
  };
  const ms = await interleavedMedians(CASES.map((_, i) => () => once(i)), ROUNDS);
  const W = [16, 8, 4, 10, 10];
  ctx.log(`subgroup-rb ${M}x${N}x${K} NN on ${e.gpu.adapter.name}, medians of ${ROUNDS} interleaved rounds`);
  ctx.log(row(['loads', 'tile', 'KU', 'ms', 'GFLOP/s'], W));
  CASES.forEach((k, i) => {
    const t = ms[i];
    ctx.log(row([k.loads, `${k.R}x${4 * k.J}`, String(k.KU), t.toFixed(1), ((2 * M * N * K) / (t * 1e6)).toFixed(2)], W));
  });
  e.gpu.destroy();
};
