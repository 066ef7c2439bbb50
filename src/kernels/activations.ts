import geluCode from '../../shaders/gelu.wgsl?raw';
import swigluCode from '../../shaders/swiglu.wgsl?raw';
import type { Engine } from '../gpu/engine';
import { type Tensor, numel } from '../gpu/tensor';
import { strideGrid } from './elementwise';
import { expectLike } from './shape';

const WG = 64;

async function pipeline(e: Engine, name: string, code: string, entryPoint: string): Promise<GPUComputePipeline> {
  return e.pipelines.get({ label: `${name}_${entryPoint}_wg${WG}`, code, entryPoint, constants: { WG } });
}

// inp is (N,F) (any shape), out is the same shape: out = GELU(inp), tanh approximation (GPT-2)
export async function geluForward(e: Engine, inp: Tensor, out: Tensor): Promise<void> {
  expectLike(inp, out, 'geluForward inp');
  const n = numel(out.shape);
  e.rec.dispatch(await pipeline(e, 'gelu', geluCode, 'forward'), [e.rec.params([['u32', n]]), inp, out], strideGrid(n, WG));
}

// inp is (N,F) (the forward's input), dout and dinp are the same shape: dinp = GELU'(inp) * dout
export async function geluBackward(e: Engine, inp: Tensor, dout: Tensor, dinp: Tensor): Promise<void> {
  expectLike(inp, dinp, 'geluBackward inp');
  expectLike(dout, dinp, 'geluBackward dout');
  const n = numel(dinp.shape);
  e.rec.dispatch(await pipeline(e, 'gelu', geluCode, 'backward'), [e.rec.params([['u32', n]]), inp, dinp, dout], strideGrid(n, WG));
}

// gate is (N,F), up is (N,F), out is (N,F): out = SiLU(gate) * up  (Llama MLP; gate and up from two matmuls)
export async function swigluForward(e: Engine, gate: Tensor, up: Tensor, out: Tensor): Promise<void> {
  expectLike(gate, out, 'swigluForward gate');
  expectLike(up, out, 'swigluForward up');
  const n = numel(out.shape);
  e.rec.dispatch(await pipeline(e, 'swiglu', swigluCode, 'forward'), [e.rec.params([['u32', n]]), gate, up, out], strideGrid(n, WG));
}

// gate, up (the forward's inputs) and dout are (N,F); dgate and dup are (N,F)
export async function swigluBackward(e: Engine, gate: Tensor, up: Tensor, dout: Tensor, dgate: Tensor, dup: Tensor): Promise<void> {
  expectLike(gate, dout, 'swigluBackward gate');
  expectLike(up, dout, 'swigluBackward up');
  expectLike(dgate, dout, 'swigluBackward dgate');
  expectLike(dup, dout, 'swigluBackward dup');
  const n = numel(dout.shape);
  e.rec.dispatch(await pipeline(e, 'swiglu', swigluCode, 'backward'), [e.rec.params([['u32', n]]), gate, up, dgate, dup, dout], strideGrid(n, WG));
}
