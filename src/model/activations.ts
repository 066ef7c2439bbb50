// The activation memory plan: every tensor the forward saves for the backward, and the scratch
// the backward reuses across layers, allocated once for a (B, T) capacity.
import type { Engine } from '../gpu/engine';
import type { Tensor } from '../gpu/tensor';
import type { ModelConfig } from './config';

/** What one block saves for its backward. Shapes use N = B·T rows. */
export interface BlockActs {
  /** Input of the block (the residual stream), (N, C). */
  res: Tensor;
  /** ln1 output (N, C), its mean (N, layernorm only) and rstd (N). */
  xn1: Tensor;
  mean1: Tensor | null;
  rstd1: Tensor;
  /** q (N, NH·HS) and k, v (N, NKV·HS), after RoPE. */
  q: Tensor;
  k: Tensor;
  v: Tensor;
  /** Attention output (N, NH·HS) and row log-sum-exp (B, NH, T). */
  att: Tensor;
  lse: Tensor;
  /** Residual after attention (N, C). */
  resMid: Tensor;
  xn2: Tensor;
  mean2: Tensor | null;
  rstd2: Tensor;
  /** MLP: swiglu gate and up (N, F); gpt2: fc pre-activation in `gate`, `up` unused (null). */
  gate: Tensor;
  up: Tensor | null;
  /** Activation output, input of the down/proj linear (N, F). */
  h: Tensor;
}

/** Scratch shared by all blocks (forward temporaries and backward gradients). */
export interface Scratch {
  /** Output of o / down projections before the residual add (N, C). */
  proj: Tensor;
  /** Gradient of the residual stream (N, C). */
  dres: Tensor;
  /** Gradient of a norm output (N, C). */
  dxn: Tensor;
  dq: Tensor;
  dk: Tensor;
  dv: Tensor;
  datt: Tensor;
  /** Gradients of gate / up / h (N, F); dup null for gpt2. */
  dgate: Tensor;
  dup: Tensor | null;
  dh: Tensor;
}

export interface Activations {
  B: number;
  T: number;
  blocks: BlockActs[];
  /** Output of the last block (N, C), the final norm's output and statistics. */
  resOut: Tensor;
  xnf: Tensor;
  meanf: Tensor | null;
  rstdf: Tensor;
  /** (N, V); the cross-entropy writes dlogits over it. */
  logits: Tensor;
  scratch: Scratch;
  /** Every tensor above, for release. */
  all: Tensor[];
}

/** Bytes of activations for a (B, T) batch: what allocateActivations will take. */
export function activationBytes(cfg: ModelConfig, B: number, T: number): number {
  const N = B * T;
  const { C, NH, NKV, HS, F, V, L } = cfg;
  const ln = cfg.norm === 'layernorm' ? 2 : 1;
  const mlp = cfg.activation === 'swiglu' ? 3 * F : 2 * F;
  const block = N * (C + C + NH * HS + 2 * NKV * HS + NH * HS + C + C + mlp + 2 * ln) + B * NH * T;
  const scratch = N * (C * 3 + NH * HS * 2 + 2 * NKV * HS + (cfg.activation === 'swiglu' ? 3 : 2) * F);
  return 4 * (L * block + N * (2 * C + ln + V) + scratch);
}

export function allocateActivations(e: Engine, cfg: ModelConfig, B: number, T: number): Activations {
  const N = B * T;
  const { C, NH, NKV, HS, F, V } = cfg;
  const all: Tensor[] = [];
  const t = (shape: number[], label: string): Tensor => {
    const x = e.pool.tensor(shape, 'f32', label);
    all.push(x);
    return x;
  };
  const ln = cfg.norm === 'layernorm';
  const swiglu = cfg.activation === 'swiglu';
  const blocks: BlockActs[] = [];
  for (let l = 0; l < cfg.L; l++) {
    blocks.push({
      res: t([N, C], `h.${l}.res`),
      xn1: t([N, C], `h.${l}.xn1`),
      mean1: ln ? t([N], `h.${l}.mean1`) : null,
      rstd1: t([N], `h.${l}.rstd1`),
      q: t([N, NH * HS], `h.${l}.q`),
      k: t([N, NKV * HS], `h.${l}.k`),
      v: t([N, NKV * HS], `h.${l}.v`),
      att: t([N, NH * HS], `h.${l}.att`),
      lse: t([B, NH, T], `h.${l}.lse`),
      resMid: t([N, C], `h.${l}.resMid`),
      xn2: t([N, C], `h.${l}.xn2`),
      mean2: ln ? t([N], `h.${l}.mean2`) : null,
      rstd2: t([N], `h.${l}.rstd2`),
      gate: t([N, F], `h.${l}.gate`),
      up: swiglu ? t([N, F], `h.${l}.up`) : null,
      h: t([N, F], `h.${l}.h`),
    });
  }
  return {
    B,
    T,
    blocks,
    resOut: t([N, C], 'resOut'),
    xnf: t([N, C], 'xnf'),
    meanf: ln ? t([N], 'meanf') : null,
    rstdf: t([N], 'rstdf'),
    logits: t([N, V], 'logits'),
    scratch: {
      proj: t([N, C], 'proj'),
      dres: t([N, C], 'dres'),
      dxn: t([N, C], 'dxn'),
      dq: t([N, NH * HS], 'dq'),
      dk: t([N, NKV * HS], 'dk'),
      dv: t([N, NKV * HS], 'dv'),
      datt: t([N, NH * HS], 'datt'),
      dgate: t([N, F], 'dgate'),
      dup: swiglu ? t([N, F], 'dup') : null,
      dh: t([N, F], 'dh'),
    },
    all,
  };
}
