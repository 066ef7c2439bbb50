// The transformer on the GPU, llm.c style: flat parameter/gradient buffers, saved activations,
// and a sequence of kernel launches — each block's forward and backward side by side.
// Families: 'llama' (RMSNorm, RoPE, GQA, SwiGLU; Qwen2/Mistral biases) and 'gpt2' (LayerNorm,
// learned positions, GELU-tanh). Rows are N = B·T tokens; C, NH, NKV, HS, F, V as in ModelConfig.
import type { Engine } from '../gpu/engine';
import { type Tensor, reshape, subview } from '../gpu/tensor';
import { upload } from '../gpu/transfer';
import { geluBackward, geluForward, swigluBackward, swigluForward } from '../kernels/activations';
import { attentionBackward, attentionForward } from '../kernels/attention';
import { asHeads } from '../kernels/attention/heads';
import { crossEntropy } from '../kernels/cross-entropy';
import { add } from '../kernels/elementwise';
import { type TokenIndexTensors, buildTokenIndex, embeddingBackward, embeddingForward, tokenIndexBuffers, uploadTokenIndex } from '../kernels/embedding';
import { layernormBackward, layernormForward } from '../kernels/layernorm';
import { rmsnormBackward, rmsnormForward } from '../kernels/rmsnorm';
import { ropeBackward, ropeForward } from '../kernels/rope';
import { scratch } from '../kernels/scratch';
import { type Activations, type BlockActs, allocateActivations } from './activations';
import type { ModelConfig } from './config';
import { FlatBuffer } from './gpu-params';
import { type LinearGrads, type LoraWeights, linearBackward, linearForward } from './linear';
import { type LoraSpec, type ParamLayout, paramLayout } from './param-layout';

/** One batch as the CPU holds it: (B, T) token ids, next-token targets and per-token loss weights. */
export interface Batch {
  tokens: Int32Array;
  targets: Int32Array;
  /** 0 = masked; RL advantages may be negative. */
  weights: Float32Array;
}

export interface TransformerOptions {
  /** Batch capacity: rows and sequence length the activations are allocated for. */
  B: number;
  T: number;
  lora?: LoraSpec;
  /** Allocate gradients (training). Default true. */
  train?: boolean;
  /**
   * Sequences generated at once over the KV cache (eval, GRPO sampling): the decode step's rows,
   * prefilled B at a time. Default B. A decode step costs little more for more rows on a CPU
   * adapter, so more rows generate faster (README "Speed").
   */
  genB?: number;
}

/** LoRA adapter tensors of one linear (by the Plantune weight name it adds to). */
interface LoraBinding {
  A: string;
  B: string;
  rowStart: number;
  rows: number;
  u: Tensor;
  du: Tensor;
}

export class Transformer {
  readonly cfg: ModelConfig;
  readonly layout: ParamLayout;
  readonly params: FlatBuffer;
  /** Base-weight gradients (full fine-tuning); null with LoRA or without training. */
  readonly grads: FlatBuffer | null;
  readonly loraParams: FlatBuffer | null;
  readonly loraGrads: FlatBuffer | null;
  /** LoRA is applied in the forward (false = the base model, e.g. the RL reference policy). */
  loraEnabled = true;
  readonly acts: Activations;
  private readonly tokens: Tensor;
  private readonly targets: Tensor;
  private readonly weights: Tensor;
  /** Per-token outputs of the cross-entropy, (N). */
  readonly loss: Tensor;
  readonly logprob: Tensor;
  readonly entropy: Tensor;
  private readonly tokenIndex: TokenIndexTensors;
  private index: TokenIndexTensors | null = null;
  private readonly lora = new Map<string, LoraBinding>();
  /** The (B, T) of the batch last given to forward. */
  private shape: { B: number; T: number } = { B: 0, T: 0 };

  constructor(
    readonly e: Engine,
    cfg: ModelConfig,
    readonly opts: TransformerOptions,
  ) {
    const train = opts.train ?? true;
    if (opts.T > cfg.maxT) throw new RangeError(`sequence length ${opts.T} exceeds the model's context ${cfg.maxT}`);
    if (opts.genB !== undefined && !(Number.isInteger(opts.genB) && opts.genB >= 1)) throw new RangeError(`genB must be a positive integer, got ${opts.genB}`);
    this.cfg = cfg;
    this.layout = paramLayout(cfg, opts.lora);
    this.params = new FlatBuffer(e, this.layout.tensors, this.layout.totalElements, 'params');
    this.grads = train && !opts.lora ? new FlatBuffer(e, this.layout.tensors, this.layout.totalElements, 'grads') : null;
    const ll = this.layout.lora;
    this.loraParams = ll ? new FlatBuffer(e, ll.tensors, ll.totalElements, 'lora') : null;
    this.loraGrads = ll && train ? new FlatBuffer(e, ll.tensors, ll.totalElements, 'lora grads') : null;
    const N = opts.B * opts.T;
    if (ll) {
      for (const ad of ll.adapters) {
        const u = e.pool.tensor([N, ll.rank], 'f32', `${ad.module} lora u`);
        const du = e.pool.tensor([N, ll.rank], 'f32', `${ad.module} lora du`);
        for (const p of ad.parts) this.lora.set(p.param, { A: ad.A.name, B: ad.B.name, rowStart: p.rowStart, rows: p.rows, u, du });
      }
    }
    this.acts = allocateActivations(e, cfg, opts.B, opts.T);
    this.tokens = e.pool.tensor([N], 'i32', 'tokens');
    this.targets = e.pool.tensor([N], 'i32', 'targets');
    this.weights = e.pool.tensor([N], 'f32', 'loss weights');
    this.loss = e.pool.tensor([N], 'f32', 'token loss');
    this.logprob = e.pool.tensor([N], 'f32', 'token logprob');
    this.entropy = e.pool.tensor([N], 'f32', 'token entropy');
    this.tokenIndex = tokenIndexBuffers(e, N);
  }

  /** Rows-first views of a batch of shape (B, T) inside tensors allocated for the capacity. */
  private rows(t: Tensor, cols?: number): Tensor {
    const N = this.shape.B * this.shape.T;
    return subview(t, 0, cols === undefined ? [N] : [N, cols]);
  }

  private p(name: string): Tensor {
    return this.params.get(name);
  }

  private pOpt(name: string): Tensor | null {
    return this.params.has(name) ? this.params.get(name) : null;
  }

  private loraOf(wName: string): LoraWeights | undefined {
    const b = this.lora.get(wName);
    if (!b || !this.loraEnabled || !this.loraParams) return undefined;
    const r = this.layout.lora!.rank;
    const Bfull = this.loraParams.get(b.B);
    const B = b.rows === Bfull.shape[0] ? Bfull : subview(Bfull, b.rowStart * r, [b.rows, r]);
    return { A: this.loraParams.get(b.A), B, scale: this.layout.lora!.scale, u: this.rows(b.u, r) };
  }

  private linearGrads(wName: string, bName: string | null): LinearGrads {
    const g: LinearGrads = {};
    if (this.grads) {
      g.dw = this.grads.get(wName);
      if (bName && this.grads.has(bName)) g.db = this.grads.get(bName);
    }
    const b = this.lora.get(wName);
    if (b && this.loraGrads && this.loraEnabled) {
      const r = this.layout.lora!.rank;
      const dBfull = this.loraGrads.get(b.B);
      const dB = b.rows === dBfull.shape[0] ? dBfull : subview(dBfull, b.rowStart * r, [b.rows, r]);
      g.lora = { dA: this.loraGrads.get(b.A), dB, du: this.rows(b.du, r) };
    }
    return g;
  }

  private async linear(x: Tensor, name: string, y: Tensor): Promise<void> {
    await linearForward(this.e, x, this.p(`${name}.w`), this.pOpt(`${name}.b`), y, this.loraOf(`${name}.w`));
  }

  private async linearBack(dy: Tensor, x: Tensor, name: string, dx: Tensor | null, accumulateDx: boolean): Promise<void> {
    await linearBackward(this.e, dy, x, this.p(`${name}.w`), dx, accumulateDx, this.linearGrads(`${name}.w`, `${name}.b`), this.loraOf(`${name}.w`));
  }

  /** A norm-weight gradient, or a scratch sink when the norm is frozen (LoRA). */
  private normGrad(name: string): Tensor {
    return this.grads ? this.grads.get(name) : scratch(this.e, `frozen ${name.endsWith('.b') ? 'bias' : 'weight'}`, [this.cfg.C]);
  }

  // ---------------------------------------------------------------- norms
  // inp is (N,C); out is (N,C); mean (N) (layernorm only) and rstd (N) saved
  private async norm(name: string, inp: Tensor, out: Tensor, mean: Tensor | null, rstd: Tensor): Promise<void> {
    const eps = this.cfg.normEps;
    if (this.cfg.norm === 'rmsnorm') await rmsnormForward(this.e, inp, this.p(`${name}.w`), out, rstd, { eps });
    else await layernormForward(this.e, inp, this.p(`${name}.w`), this.p(`${name}.b`), out, mean!, rstd, { eps });
  }

  // backward of `out = norm(inp)`: dinp += (the residual stream's gradient accumulates), dweight/dbias +=
  private async normBack(name: string, dout: Tensor, inp: Tensor, mean: Tensor | null, rstd: Tensor, dinp: Tensor): Promise<void> {
    const o = { accumulate: true, accumulateInput: true };
    if (this.cfg.norm === 'rmsnorm') await rmsnormBackward(this.e, dout, inp, this.p(`${name}.w`), rstd, dinp, this.normGrad(`${name}.w`), o);
    else await layernormBackward(this.e, dout, inp, this.p(`${name}.w`), mean!, rstd, dinp, this.normGrad(`${name}.w`), this.normGrad(`${name}.b`), o);
  }

  // ---------------------------------------------------------------- one block
  private blockViews(a: BlockActs): BlockActs {
    const { C, NH, NKV, HS, F } = this.cfg;
    const { B, T } = this.shape;
    const r = (t: Tensor | null, cols?: number) => (t ? this.rows(t, cols) : null);
    return {
      res: r(a.res, C)!, xn1: r(a.xn1, C)!, mean1: r(a.mean1), rstd1: r(a.rstd1)!,
      q: r(a.q, NH * HS)!, k: r(a.k, NKV * HS)!, v: r(a.v, NKV * HS)!, att: r(a.att, NH * HS)!,
      lse: subview(a.lse, 0, [B, NH, T]),
      resMid: r(a.resMid, C)!, xn2: r(a.xn2, C)!, mean2: r(a.mean2), rstd2: r(a.rstd2)!,
      gate: r(a.gate, F)!, up: r(a.up, F), h: r(a.h, F)!,
    };
  }

  private heads(x: Tensor, H: number): ReturnType<typeof asHeads> {
    return asHeads(reshape(x, [this.shape.B, this.shape.T, H, this.cfg.HS]), x.label ?? 'heads');
  }

  // a.res is the block input (N,C); writes resOut (N,C) = the block output
  private async blockForward(l: number, a: BlockActs, resOut: Tensor): Promise<void> {
    const { e, cfg } = this;
    const { NH, NKV } = cfg;
    const p = `h.${l}`;
    const proj = this.rows(this.acts.scratch.proj, cfg.C);
    // attention
    await this.norm(`${p}.ln1`, a.res, a.xn1, a.mean1, a.rstd1);
    await this.linear(a.xn1, `${p}.attn.q`, a.q);
    await this.linear(a.xn1, `${p}.attn.k`, a.k);
    await this.linear(a.xn1, `${p}.attn.v`, a.v);
    if (cfg.positions === 'rope') {
      await ropeForward(e, this.heads(a.q, NH), { theta: cfg.ropeTheta });
      await ropeForward(e, this.heads(a.k, NKV), { theta: cfg.ropeTheta });
    }
    await attentionForward(e, this.heads(a.q, NH), this.heads(a.k, NKV), this.heads(a.v, NKV), this.heads(a.att, NH), a.lse);
    await this.linear(a.att, `${p}.attn.o`, proj);
    await add(e, a.res, proj, a.resMid);
    // MLP
    await this.norm(`${p}.ln2`, a.resMid, a.xn2, a.mean2, a.rstd2);
    if (cfg.activation === 'swiglu') {
      await this.linear(a.xn2, `${p}.mlp.gate`, a.gate);
      await this.linear(a.xn2, `${p}.mlp.up`, a.up!);
      await swigluForward(e, a.gate, a.up!, a.h);
      await this.linear(a.h, `${p}.mlp.down`, proj);
    } else {
      await this.linear(a.xn2, `${p}.mlp.fc`, a.gate);
      await geluForward(e, a.gate, a.h);
      await this.linear(a.h, `${p}.mlp.proj`, proj);
    }
    await add(e, a.resMid, proj, resOut);
  }

  // dres (N,C) holds d(block output) on entry and d(block input) on exit
  private async blockBackward(l: number, a: BlockActs, dres: Tensor): Promise<void> {
    const { e, cfg } = this;
    const { NH, NKV, C, HS, F } = cfg;
    const p = `h.${l}`;
    const s = this.acts.scratch;
    const dxn = this.rows(s.dxn, C);
    const dh = this.rows(s.dh, F);
    const dgate = this.rows(s.dgate, F);
    // backward of `resOut = resMid + proj(act(xn2))`: d(resMid) = dres (kept in dres) + the MLP path
    if (cfg.activation === 'swiglu') {
      const dup = this.rows(s.dup!, F);
      await this.linearBack(dres, a.h, `${p}.mlp.down`, dh, false); // h -> down
      await swigluBackward(e, a.gate, a.up!, dh, dgate, dup); // h = silu(gate)·up
      await this.linearBack(dgate, a.xn2, `${p}.mlp.gate`, dxn, false);
      await this.linearBack(dup, a.xn2, `${p}.mlp.up`, dxn, true);
    } else {
      await this.linearBack(dres, a.h, `${p}.mlp.proj`, dh, false); // h -> proj
      await geluBackward(e, a.gate, dh, dgate); // h = gelu(fc)
      await this.linearBack(dgate, a.xn2, `${p}.mlp.fc`, dxn, false);
    }
    await this.normBack(`${p}.ln2`, dxn, a.resMid, a.mean2, a.rstd2, dres); // xn2 = ln2(resMid)
    // backward of `resMid = res + o(attention(q, k, v))`
    const datt = this.rows(s.datt, NH * HS);
    const dq = this.rows(s.dq, NH * HS);
    const dk = this.rows(s.dk, NKV * HS);
    const dv = this.rows(s.dv, NKV * HS);
    await this.linearBack(dres, a.att, `${p}.attn.o`, datt, false);
    await attentionBackward(
      e, this.heads(datt, NH), this.heads(a.q, NH), this.heads(a.k, NKV), this.heads(a.v, NKV), this.heads(a.att, NH), a.lse,
      this.heads(dq, NH), this.heads(dk, NKV), this.heads(dv, NKV),
    );
    if (cfg.positions === 'rope') {
      await ropeBackward(e, this.heads(dq, NH), { theta: cfg.ropeTheta });
      await ropeBackward(e, this.heads(dk, NKV), { theta: cfg.ropeTheta });
    }
    await this.linearBack(dq, a.xn1, `${p}.attn.q`, dxn, false);
    await this.linearBack(dk, a.xn1, `${p}.attn.k`, dxn, true);
    await this.linearBack(dv, a.xn1, `${p}.attn.v`, dxn, true);
    await this.normBack(`${p}.ln1`, dxn, a.res, a.mean1, a.rstd1, dres); // xn1 = ln1(res)
  }

  // ---------------------------------------------------------------- whole model
  /** Uploads a (B, T) batch (B·T within the capacity). */
  setBatch(B: number, T: number, batch: Batch): void {
    const N = B * T;
    if (B > this.opts.B || T > this.opts.T) throw new RangeError(`batch (${B}, ${T}) exceeds the capacity (${this.opts.B}, ${this.opts.T}) the model was allocated for`);
    for (const [name, arr] of Object.entries(batch)) {
      if ((arr as ArrayLike<number>).length !== N) throw new RangeError(`batch.${name} has ${(arr as ArrayLike<number>).length} entries, expected B·T = ${N}`);
    }
    // Uploads take effect before any unsubmitted work: send what was recorded with the previous batch first.
    this.e.rec.submit();
    this.shape = { B, T };
    upload(this.e.gpu, this.rows(this.tokens), batch.tokens);
    upload(this.e.gpu, this.rows(this.targets), batch.targets);
    upload(this.e.gpu, this.rows(this.weights), batch.weights);
    this.index = this.grads?.has('wte') ? uploadTokenIndex(this.e.gpu, buildTokenIndex(batch.tokens, this.cfg.V), this.tokenIndex) : null;
  }

  // tokens (B,T) -> logits (N,V), then per-token loss/logprob/entropy (N) and, when `dscale` is given,
  // dlogits (written over the logits) = weight·dscale·(softmax − onehot(target)).
  async forward(opts: { dscale?: number } = {}): Promise<void> {
    const { e, cfg, acts } = this;
    const { B, T } = this.shape;
    const { C, V } = cfg;
    const res0 = this.rows(acts.blocks[0].res, C);
    await embeddingForward(e, subview(this.tokens, 0, [B, T]), this.p('wte'), this.pOpt('wpe'), reshape(res0, [B, T, C]));
    for (let l = 0; l < cfg.L; l++) {
      const out = l + 1 < cfg.L ? this.rows(acts.blocks[l + 1].res, C) : this.rows(acts.resOut, C);
      await this.blockForward(l, this.blockViews(acts.blocks[l]), out);
    }
    const xnf = this.rows(acts.xnf, C);
    await this.norm('lnf', this.rows(acts.resOut, C), xnf, acts.meanf && this.rows(acts.meanf), this.rows(acts.rstdf));
    const logits = this.rows(acts.logits, V);
    await linearForward(e, xnf, this.lmHead(), null, logits);
    await crossEntropy(
      e, logits, this.rows(this.targets), this.rows(this.weights),
      { loss: this.rows(this.loss), logprob: this.rows(this.logprob), entropy: this.rows(this.entropy), dlogits: opts.dscale === undefined ? undefined : 'inplace' },
      { dscale: opts.dscale },
    );
  }

  private lmHead(): Tensor {
    return this.cfg.tiedEmbeddings ? this.p('wte') : this.p('lm_head.w');
  }

  /** Backward of the last forward (which must have been given `dscale`): accumulates into grads / loraGrads. */
  async backward(): Promise<void> {
    const { e, cfg, acts } = this;
    const { B, T } = this.shape;
    const { C, V } = cfg;
    const dres = this.rows(acts.scratch.dres, C);
    const dxn = this.rows(acts.scratch.dxn, C);
    const xnf = this.rows(acts.xnf, C);
    // logits = xnf·Wᵀ (W = wte when tied): dxnf = dlogits·W, dW += dlogitsᵀ·xnf
    const dW = this.grads ? this.grads.get(cfg.tiedEmbeddings ? 'wte' : 'lm_head.w') : undefined;
    await linearBackward(e, this.rows(acts.logits, V), xnf, this.lmHead(), dxn, false, { dw: dW });
    e.rec.commandEncoder.clearBuffer(dres.buffer, dres.offset, B * T * C * 4);
    await this.normBack('lnf', dxn, this.rows(acts.resOut, C), acts.meanf && this.rows(acts.meanf), this.rows(acts.rstdf), dres);
    for (let l = cfg.L - 1; l >= 0; l--) await this.blockBackward(l, this.blockViews(acts.blocks[l]), dres);
    if (this.grads && this.index) {
      await embeddingBackward(e, reshape(dres, [B, T, C]), this.index, this.grads.get('wte'), this.grads.has('wpe') ? this.grads.get('wpe') : null, { accumulate: true });
    }
  }

  /** Records zeroing of the gradients (once per optimizer step, before the micro-batches). */
  zeroGrads(): void {
    this.grads?.zero();
    this.loraGrads?.zero();
  }

  /** Sequences generated at once over the KV cache (TransformerOptions.genB, default B). */
  get genRows(): number {
    return this.opts.genB ?? this.opts.B;
  }

  /** The (B, T) of the current batch. */
  get batchShape(): { B: number; T: number } {
    return { ...this.shape };
  }

  /** Logits of the current batch, (N, V) (dlogits after a forward with dscale). */
  logits(): Tensor {
    return this.rows(this.acts.logits, this.cfg.V);
  }

  /** Per-token outputs of the current batch, (N). */
  tokenOutputs(): { loss: Tensor; logprob: Tensor; entropy: Tensor } {
    return { loss: this.rows(this.loss), logprob: this.rows(this.logprob), entropy: this.rows(this.entropy) };
  }

  destroy(): void {
    this.params.destroy();
    this.grads?.destroy();
    this.loraParams?.destroy();
    this.loraGrads?.destroy();
    for (const t of this.acts.all) this.e.pool.release(t);
    for (const t of [this.tokens, this.targets, this.weights, this.loss, this.logprob, this.entropy, this.tokenIndex.ids, this.tokenIndex.starts, this.tokenIndex.positions]) this.e.pool.release(t);
    // GPT-2's c_attn adapter feeds q, k and v: its u/du scratch appears under three weights.
    const scratchTensors = new Set([...this.lora.values()].flatMap((b) => [b.u, b.du]));
    for (const t of scratchTensors) this.e.pool.release(t);
  }
}
