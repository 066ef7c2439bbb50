// float64 reference of the whole model, forward and backward: Llama family (RMSNorm, RoPE,
// GQA, SwiGLU; optional q/k/v, o and MLP biases) and GPT-2 (LayerNorm, learned positions,
// GELU-tanh), tied or untied LM head, optional LoRA. The per-layer pieces with their backward
// side by side are in ./model/*.ts; this file wires them in llm.c's order.
//
// Parameters, gradients and LoRA adapters are flat Float64Arrays laid out by ParamLayout
// (src/model/param-layout.ts), the same offsets as the GPU's f32 buffers.
//
// LoRA: every targeted weight is used as W + (alpha/r)·B·A (dropout 0). The reference merges
// the adapters into a copy of the weights, runs the plain model, and gets the adapters'
// gradients from dW by the chain rule: dA = s·Bᵀ·dW, dB = s·dW·Aᵀ (summed over an adapter's parts).
// This is a different computation from an unmerged GPU path, which is what a reference wants.

import { type ParamLayout, tensorSpec, view } from '../../src/model/param-layout';
import { attentionBackward, attentionForward, ropeBackward, ropeForward } from './model/attention';
import { encoderBackward, encoderForward, matmulBackward, matmulForward, residualForward } from './model/linear';
import { crossEntropyBackward, crossEntropyForward, type LossNorm, lossDivisor } from './model/loss';
import { geluBackward, geluForward, swigluBackward, swigluForward } from './model/mlp';
import { layernormBackward, layernormForward, rmsnormBackward, rmsnormForward } from './model/norms';

export type { LossNorm } from './model/loss';

export interface RefBatch {
  B: number;
  T: number;
  /** (B,T) token ids in [0, V). */
  tokens: ArrayLike<number>;
  /** (B,T) next-token targets; read only where the weight is not 0. */
  targets: ArrayLike<number>;
  /** (B,T) per-token loss weights, 0 = masked; default all 1. */
  weights?: ArrayLike<number>;
}

export interface RefOptions {
  /** Loss normalisation (see ./model/loss.ts); default 'mean' over unmasked tokens. */
  norm?: LossNorm;
  /** LoRA adapters, a flat buffer laid out by layout.lora; required when the layout has LoRA. */
  lora?: Float64Array;
}

export interface RefForward {
  loss: number;
  /** The loss divisor D that was used. */
  divisor: number;
  /** (B,T) −log p(target) per token, 0 where masked. */
  nll: Float64Array;
  /** (B,T,V) */
  logits: Float64Array;
}

export interface RefResult extends RefForward {
  /** d loss / d params, laid out like params (padding stays 0). With LoRA: the gradient w.r.t. the base weights. */
  grads: Float64Array;
  /** d loss / d LoRA adapters, laid out by layout.lora; null without LoRA. */
  loraGrads: Float64Array | null;
}

type F64 = Float64Array;

interface NormSave {
  out: F64;
  rstd: F64;
  /** LayerNorm only. */
  mean: F64 | null;
}

interface BlockTape {
  x: F64; // block input (B,T,C)
  n1: NormSave;
  q: F64; // (B,T,NH*HS) after projection, before RoPE
  k: F64; // (B,T,NKV*HS)
  v: F64; // (B,T,NKV*HS)
  qr: F64; // q after RoPE (= q with learned positions)
  kr: F64;
  att: F64; // (B,NH,T,T)
  y: F64; // (B,T,NH*HS) attention output
  x1: F64; // residual after attention (B,T,C)
  n2: NormSave;
  pre: F64; // (B,T,F) gate (swiglu) or fc output (gelu)
  up: F64 | null; // (B,T,F) swiglu only
  h: F64; // (B,T,F) activation output
}

interface Tape {
  blocks: BlockTape[];
  xL: F64; // final residual (B,T,C)
  nf: NormSave;
  probs: F64; // (B,T,V)
}

/** Named views of one flat buffer. */
class Views {
  constructor(
    private readonly layout: ParamLayout,
    private readonly buf: F64,
  ) {}
  get(name: string): F64 {
    return view(this.buf, tensorSpec(this.layout, name));
  }
  /** null when the layout has no such tensor (absent biases). */
  opt(name: string): F64 | null {
    const t = this.layout.byName.get(name);
    return t ? view(this.buf, t) : null;
  }
}

function checkBatch(layout: ParamLayout, params: F64, batch: RefBatch): void {
  const { B, T, tokens, targets, weights } = batch;
  const cfg = layout.config;
  if (params.length !== layout.totalElements) throw new Error(`params has ${params.length} elements, layout needs ${layout.totalElements}`);
  if (!(B > 0 && T > 0)) throw new Error(`B and T must be positive, got B=${B}, T=${T}`);
  if (T > cfg.maxT) throw new Error(`T=${T} exceeds the model's maximum sequence length ${cfg.maxT}`);
  for (const [name, a] of [['tokens', tokens], ['targets', targets], ['weights', weights]] as const) {
    if (a && a.length !== B * T) throw new Error(`${name} has ${a.length} elements, expected B*T = ${B * T}`);
  }
  for (let i = 0; i < B * T; i++) {
    if (!Number.isInteger(tokens[i]) || tokens[i] < 0 || tokens[i] >= cfg.V) throw new Error(`token ${tokens[i]} at position ${i} is outside the vocabulary [0, ${cfg.V})`);
  }
}

function normForward(layout: ParamLayout, p: Views, name: string, inp: F64, N: number): NormSave {
  const { C, normEps } = layout.config;
  const out = new Float64Array(N * C);
  const rstd = new Float64Array(N);
  if (layout.config.norm === 'layernorm') {
    const mean = new Float64Array(N);
    layernormForward(out, mean, rstd, inp, p.get(`${name}.w`), p.get(`${name}.b`), N, C, normEps);
    return { out, rstd, mean };
  }
  rmsnormForward(out, rstd, inp, p.get(`${name}.w`), N, C, normEps);
  return { out, rstd, mean: null };
}

function normBackward(layout: ParamLayout, p: Views, g: Views, name: string, dinp: F64, dout: F64, inp: F64, s: NormSave, N: number): void {
  const { C } = layout.config;
  if (s.mean) layernormBackward(dinp, g.get(`${name}.w`), g.get(`${name}.b`), dout, inp, p.get(`${name}.w`), s.mean, s.rstd, N, C);
  else rmsnormBackward(dinp, g.get(`${name}.w`), dout, inp, p.get(`${name}.w`), s.rstd, N, C);
}

// inp is (N,IN), out is (N,OUT): out = inp·Wᵀ + b with W = `${name}.w`, b = `${name}.b` if present
function linearForward(p: Views, name: string, inp: F64, N: number, IN: number, OUT: number): F64 {
  const out = new Float64Array(N * OUT);
  matmulForward(out, inp, p.get(`${name}.w`), p.opt(`${name}.b`), N, IN, OUT);
  return out;
}

function linearBackward(p: Views, g: Views, name: string, dinp: F64, dout: F64, inp: F64, N: number, IN: number, OUT: number): void {
  matmulBackward(dinp, g.get(`${name}.w`), g.opt(`${name}.b`), dout, inp, p.get(`${name}.w`), N, IN, OUT);
}

function forward(layout: ParamLayout, params: F64, batch: RefBatch, norm: LossNorm): { fwd: RefForward; tape: Tape; weights: ArrayLike<number> } {
  const cfg = layout.config;
  const { V, C, NH, NKV, HS, F } = cfg;
  const { B, T, tokens, targets } = batch;
  const N = B * T;
  const weights = batch.weights ?? new Float64Array(N).fill(1);
  const p = new Views(layout, params);
  const rope = cfg.positions === 'rope';

  let x = new Float64Array(N * C);
  encoderForward(x, tokens, p.get('wte'), rope ? null : p.get('wpe'), B, T, C);
  const blocks: BlockTape[] = [];
  for (let l = 0; l < cfg.L; l++) {
    const n1 = normForward(layout, p, `h.${l}.ln1`, x, N);
    const q = linearForward(p, `h.${l}.attn.q`, n1.out, N, C, NH * HS);
    const k = linearForward(p, `h.${l}.attn.k`, n1.out, N, C, NKV * HS);
    const v = linearForward(p, `h.${l}.attn.v`, n1.out, N, C, NKV * HS);
    let qr = q;
    let kr = k;
    if (rope) {
      qr = new Float64Array(q.length);
      kr = new Float64Array(k.length);
      ropeForward(qr, q, B, T, NH, HS, cfg.ropeTheta);
      ropeForward(kr, k, B, T, NKV, HS, cfg.ropeTheta);
    }
    const att = new Float64Array(B * NH * T * T);
    const y = new Float64Array(N * NH * HS);
    attentionForward(y, att, qr, kr, v, B, T, NH, NKV, HS);
    const a = linearForward(p, `h.${l}.attn.o`, y, N, NH * HS, C);
    const x1 = new Float64Array(N * C);
    residualForward(x1, x, a);
    const n2 = normForward(layout, p, `h.${l}.ln2`, x1, N);
    const h = new Float64Array(N * F);
    let pre: F64;
    let up: F64 | null = null;
    let m: F64;
    if (cfg.activation === 'swiglu') {
      pre = linearForward(p, `h.${l}.mlp.gate`, n2.out, N, C, F);
      up = linearForward(p, `h.${l}.mlp.up`, n2.out, N, C, F);
      swigluForward(h, pre, up);
      m = linearForward(p, `h.${l}.mlp.down`, h, N, F, C);
    } else {
      pre = linearForward(p, `h.${l}.mlp.fc`, n2.out, N, C, F);
      geluForward(h, pre);
      m = linearForward(p, `h.${l}.mlp.proj`, h, N, F, C);
    }
    const x2 = new Float64Array(N * C);
    residualForward(x2, x1, m);
    blocks.push({ x, n1, q, k, v, qr, kr, att, y, x1, n2, pre, up, h });
    x = x2;
  }
  const nf = normForward(layout, p, 'lnf', x, N);
  const logits = new Float64Array(N * V);
  matmulForward(logits, nf.out, p.get(cfg.tiedEmbeddings ? 'wte' : 'lm_head.w'), null, N, C, V);
  const probs = new Float64Array(N * V);
  const nll = new Float64Array(N);
  const divisor = lossDivisor(weights, norm);
  const loss = crossEntropyForward(nll, probs, logits, targets, weights, N, V, divisor);
  return { fwd: { loss, divisor, nll, logits }, tape: { blocks, xL: x, nf, probs }, weights };
}

function backward(layout: ParamLayout, params: F64, batch: RefBatch, tape: Tape, weights: ArrayLike<number>, divisor: number): F64 {
  const cfg = layout.config;
  const { V, C, NH, NKV, HS, F } = cfg;
  const { B, T, tokens, targets } = batch;
  const N = B * T;
  const grads = new Float64Array(params.length);
  const p = new Views(layout, params);
  const g = new Views(layout, grads);
  const rope = cfg.positions === 'rope';

  const dlogits = new Float64Array(N * V);
  crossEntropyBackward(dlogits, tape.probs, targets, weights, N, V, divisor);
  // logits = lnf(xL)·Wlmᵀ
  const head = cfg.tiedEmbeddings ? 'wte' : 'lm_head.w';
  const dnf = new Float64Array(N * C);
  matmulBackward(dnf, g.get(head), null, dlogits, tape.nf.out, p.get(head), N, C, V);
  let dx = new Float64Array(N * C);
  normBackward(layout, p, g, 'lnf', dx, dnf, tape.xL, tape.nf, N);

  for (let l = cfg.L - 1; l >= 0; l--) {
    const s = tape.blocks[l];
    // x2 = x1 + m: dm = dx2, dx1 = dx2 + (through ln2 and the MLP)
    const dm = dx;
    const dx1 = Float64Array.from(dx);
    const dh = new Float64Array(N * F);
    const dpre = new Float64Array(N * F);
    const dn2 = new Float64Array(N * C);
    if (cfg.activation === 'swiglu') {
      // m = h·Wdownᵀ; h = silu(gate)·up; gate = n2·Wgateᵀ; up = n2·Wupᵀ
      linearBackward(p, g, `h.${l}.mlp.down`, dh, dm, s.h, N, F, C);
      const dup = new Float64Array(N * F);
      swigluBackward(dpre, dup, dh, s.pre, s.up!);
      linearBackward(p, g, `h.${l}.mlp.gate`, dn2, dpre, s.n2.out, N, C, F);
      linearBackward(p, g, `h.${l}.mlp.up`, dn2, dup, s.n2.out, N, C, F);
    } else {
      // m = h·Wprojᵀ + b; h = gelu(fc); fc = n2·Wfcᵀ + b
      linearBackward(p, g, `h.${l}.mlp.proj`, dh, dm, s.h, N, F, C);
      geluBackward(dpre, dh, s.pre);
      linearBackward(p, g, `h.${l}.mlp.fc`, dn2, dpre, s.n2.out, N, C, F);
    }
    // n2 = ln2(x1)
    normBackward(layout, p, g, `h.${l}.ln2`, dx1, dn2, s.x1, s.n2, N);
    // x1 = x + a: da = dx1, dx = dx1 + (through ln1 and attention)
    const da = dx1;
    const dxin = Float64Array.from(dx1);
    // a = y·Woᵀ + bo
    const dy = new Float64Array(N * NH * HS);
    linearBackward(p, g, `h.${l}.attn.o`, dy, da, s.y, N, NH * HS, C);
    // y = attention(qr, kr, v)
    const dqr = new Float64Array(N * NH * HS);
    const dkr = new Float64Array(N * NKV * HS);
    const dv = new Float64Array(N * NKV * HS);
    attentionBackward(dqr, dkr, dv, dy, s.qr, s.kr, s.v, s.att, B, T, NH, NKV, HS);
    // qr = rope(q), kr = rope(k)
    let dq = dqr;
    let dk = dkr;
    if (rope) {
      dq = new Float64Array(dqr.length);
      dk = new Float64Array(dkr.length);
      ropeBackward(dq, dqr, B, T, NH, HS, cfg.ropeTheta);
      ropeBackward(dk, dkr, B, T, NKV, HS, cfg.ropeTheta);
    }
    // q = n1·Wqᵀ + bq, k = n1·Wkᵀ + bk, v = n1·Wvᵀ + bv
    const dn1 = new Float64Array(N * C);
    linearBackward(p, g, `h.${l}.attn.q`, dn1, dq, s.n1.out, N, C, NH * HS);
    linearBackward(p, g, `h.${l}.attn.k`, dn1, dk, s.n1.out, N, C, NKV * HS);
    linearBackward(p, g, `h.${l}.attn.v`, dn1, dv, s.n1.out, N, C, NKV * HS);
    // n1 = ln1(x)
    normBackward(layout, p, g, `h.${l}.ln1`, dxin, dn1, s.x, s.n1, N);
    dx = dxin;
  }
  // x = wte[tokens] + wpe[t]
  encoderBackward(g.get('wte'), rope ? null : g.get('wpe'), dx, tokens, B, T, C);
  return grads;
}

/** The LoRA buffer to apply, checked against the layout; null without LoRA. */
function checkedLora(layout: ParamLayout, lora: F64 | undefined): F64 | null {
  if (!layout.lora) {
    if (lora) throw new Error('LoRA adapters given but the layout has no LoRA spec');
    return null;
  }
  if (!lora) throw new Error('the layout has LoRA: pass its adapters as opts.lora');
  if (lora.length !== layout.lora.totalElements) throw new Error(`lora has ${lora.length} elements, layout needs ${layout.lora.totalElements}`);
  return lora;
}

/** A copy of params with every LoRA-targeted weight replaced by W + (alpha/r)·B·A. */
export function mergeLora(layout: ParamLayout, params: F64, lora: F64): F64 {
  if (!layout.lora) throw new Error('the layout has no LoRA spec');
  const merged = Float64Array.from(params);
  const { rank: r, scale } = layout.lora;
  for (const ad of layout.lora.adapters) {
    const A = view(lora, ad.A); // (r, in)
    const Bm = view(lora, ad.B); // (out, r)
    for (const part of ad.parts) {
      const W = view(merged, tensorSpec(layout, part.param)); // (rows, in)
      for (let i = 0; i < part.rows; i++) {
        for (let j = 0; j < ad.inDim; j++) {
          let s = 0;
          for (let c = 0; c < r; c++) s += Bm[(part.rowStart + i) * r + c] * A[c * ad.inDim + j];
          W[i * ad.inDim + j] += scale * s;
        }
      }
    }
  }
  return merged;
}

// W_eff = W + s·B[rows]·A: dA += s·B[rows]ᵀ·dW, dB[rows] += s·dW·Aᵀ
function loraBackward(layout: ParamLayout, grads: F64, lora: F64): F64 {
  const L = layout.lora!;
  const dlora = new Float64Array(L.totalElements);
  const r = L.rank;
  for (const ad of L.adapters) {
    const A = view(lora, ad.A);
    const Bm = view(lora, ad.B);
    const dA = view(dlora, ad.A);
    const dB = view(dlora, ad.B);
    for (const part of ad.parts) {
      const dW = view(grads, tensorSpec(layout, part.param));
      for (let i = 0; i < part.rows; i++) {
        const row = part.rowStart + i;
        for (let j = 0; j < ad.inDim; j++) {
          const d = L.scale * dW[i * ad.inDim + j];
          for (let c = 0; c < r; c++) {
            dA[c * ad.inDim + j] += Bm[row * r + c] * d;
            dB[row * r + c] += A[c * ad.inDim + j] * d;
          }
        }
      }
    }
  }
  return dlora;
}

/** Loss, per-token nll and logits. */
export function refForward(layout: ParamLayout, params: F64, batch: RefBatch, opts: RefOptions = {}): RefForward {
  checkBatch(layout, params, batch);
  const lora = checkedLora(layout, opts.lora);
  const eff = lora ? mergeLora(layout, params, lora) : params;
  return forward(layout, eff, batch, opts.norm ?? 'mean').fwd;
}

/** Loss, nll, logits, and the gradient of the loss w.r.t. every parameter (and every LoRA adapter when on). */
export function refForwardBackward(layout: ParamLayout, params: F64, batch: RefBatch, opts: RefOptions = {}): RefResult {
  checkBatch(layout, params, batch);
  const lora = checkedLora(layout, opts.lora);
  const eff = lora ? mergeLora(layout, params, lora) : params;
  const { fwd, tape, weights } = forward(layout, eff, batch, opts.norm ?? 'mean');
  const grads = backward(layout, eff, batch, tape, weights, fwd.divisor);
  return { ...fwd, grads, loraGrads: lora ? loraBackward(layout, grads, lora) : null };
}
