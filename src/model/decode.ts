// Incremental decoding over a KV cache. The prompts go through the Transformer's own forward
// (prefill), as many at a time as its batch capacity holds, and the post-RoPE k and v rows of every
// layer are copied into the cache; then each step runs one new token per sequence (B rows, up to
// the model's genRows, which may exceed its batch capacity) through the same blocks — the same
// linear code path, LoRA included — with RoPE, the cache write and attention at each sequence's own
// position pos[b]. Shapes: B sequences, Tmax cache positions; C, NH, NKV, HS, F, V as in ModelConfig.
//
// prefill() and step() record their kernels without submitting. Their uploads take effect before
// any unsubmitted work, so each first submits what was recorded before it.
import { type Tensor, reshape, subview } from '../gpu/tensor';
import { upload } from '../gpu/transfer';
import { geluForward, swigluForward } from '../kernels/activations';
import { type Heads, asHeads } from '../kernels/attention/heads';
import { addInPlace } from '../kernels/elementwise';
import { embeddingForward } from '../kernels/embedding';
import { gatherRows } from '../kernels/gather';
import { layernormForward } from '../kernels/layernorm';
import { rmsnormForward } from '../kernels/rmsnorm';
import { ropeForward } from '../kernels/rope';
import { KvCache } from './kv-cache';
import { type LoraWeights, linearForward } from './linear';
import type { Transformer } from './transformer';

/** Activations of one decode step: B rows of one token, reused by every layer. */
interface StepActs {
  /** (B, 1) i32: the newest token of each sequence. */
  tokens: Tensor;
  /** (B) u32: its position (where RoPE, the cache write and attention put it). */
  pos: Tensor;
  /** (B) i32: rows to gather — the prompts' last positions (prefill), positions into wpe (gpt2 steps). */
  rowIdx: Tensor;
  /** (B, C) learned position rows (gpt2), else null. */
  wpeRows: Tensor | null;
  /** (B, C): the residual stream, updated in place by each block. */
  res: Tensor;
  /** (B, C) norm output; mean (B) (layernorm only) and rstd (B). */
  xn: Tensor;
  mean: Tensor | null;
  rstd: Tensor;
  /** (B, NH·HS), (B, NKV·HS), (B, NKV·HS), (B, NH·HS) */
  q: Tensor;
  k: Tensor;
  v: Tensor;
  att: Tensor;
  /** (B, C): o / down projection before the residual add. */
  proj: Tensor;
  /** (B, F): swiglu gate and up, or gpt2's fc pre-activation in gate (up null); h the activation. */
  gate: Tensor;
  up: Tensor | null;
  h: Tensor;
  /** (B, V): next-token logits after prefill() or step(). */
  logits: Tensor;
  /** (model B, V): one part's logits when the prompts are prefilled in parts, else null. */
  partLogits: Tensor | null;
}

export class Decoder {
  readonly cache: KvCache;
  private readonly a: StepActs;
  private readonly owned: Tensor[] = [];
  /** LoRA of each adapted weight (by Plantune weight name), with u = x·Aᵀ sized (B, r). */
  private readonly lora = new Map<string, LoraWeights>();

  constructor(
    readonly model: Transformer,
    readonly B: number,
    readonly Tmax: number,
  ) {
    const { cfg } = model;
    const { C, NH, NKV, HS, F, V } = cfg;
    if (B > model.genRows) throw new RangeError(`Decoder: ${B} sequences exceed the ${model.genRows} the model generates at once (genB)`);
    if (Tmax > cfg.maxT) throw new RangeError(`Decoder: a cache of ${Tmax} positions exceeds the model's context ${cfg.maxT}`);
    const t = (shape: number[], label: string, dtype: 'f32' | 'i32' | 'u32' = 'f32'): Tensor => {
      const x = model.e.pool.tensor(shape, dtype, `decode ${label}`);
      this.owned.push(x);
      return x;
    };
    const ln = cfg.norm === 'layernorm';
    const swiglu = cfg.activation === 'swiglu';
    this.a = {
      tokens: t([B, 1], 'tokens', 'i32'), pos: t([B], 'pos', 'u32'), rowIdx: t([B], 'row idx', 'i32'),
      wpeRows: cfg.positions === 'learned' ? t([B, C], 'wpe rows') : null,
      res: t([B, C], 'res'), xn: t([B, C], 'xn'), mean: ln ? t([B], 'mean') : null, rstd: t([B], 'rstd'),
      q: t([B, NH * HS], 'q'), k: t([B, NKV * HS], 'k'), v: t([B, NKV * HS], 'v'), att: t([B, NH * HS], 'att'),
      proj: t([B, C], 'proj'), gate: t([B, F], 'gate'), up: swiglu ? t([B, F], 'up') : null, h: t([B, F], 'h'),
      logits: t([B, V], 'logits'),
      partLogits: B > model.opts.B ? t([model.opts.B, V], 'prefill part logits') : null,
    };
    const ll = model.layout.lora;
    if (ll && model.loraParams) {
      for (const ad of ll.adapters) {
        const u = t([B, ll.rank], `${ad.module} lora u`);
        const Bfull = model.loraParams.get(ad.B.name);
        for (const part of ad.parts) {
          const Bw = part.rows === Bfull.shape[0] ? Bfull : subview(Bfull, part.rowStart * ll.rank, [part.rows, ll.rank]);
          this.lora.set(part.param, { A: model.loraParams.get(ad.A.name), B: Bw, scale: ll.scale, u });
        }
      }
    }
    this.cache = new KvCache(model.e, cfg, B, Tmax);
  }

  // prompts: B token lists of 1..min(Tmax, model T) tokens. Records the model's forward of each part
  // (at most the model's batch capacity of prompts, right-padded with padId to the part's longest),
  // the cache fill (positions 0.. of every layer, at the part's rows) and returns the logits (B, V)
  // at each prompt's last real position.
  async prefill(prompts: number[][], padId: number): Promise<Tensor> {
    const { model, B, a } = this;
    if (prompts.length !== B) throw new RangeError(`Decoder.prefill: ${prompts.length} prompts for ${B} sequences`);
    const longest = Math.max(...prompts.map((p) => p.length));
    if (longest > this.Tmax) throw new RangeError(`Decoder.prefill: a prompt of ${longest} tokens exceeds the cache of ${this.Tmax} positions`);
    const { NKV, HS, V } = model.cfg;
    model.e.rec.submit();
    upload(model.e.gpu, a.pos, new Uint32Array(B));
    for (let row = 0; row < B; row += model.opts.B) {
      const part = prompts.slice(row, row + model.opts.B);
      const Bp = part.length;
      const Tp = Math.max(...part.map((p) => p.length));
      const tokens = new Int32Array(Bp * Tp).fill(padId);
      part.forEach((p, b) => tokens.set(p, b * Tp));
      // The part's uploads take effect before unsubmitted work: the previous part's must run first.
      model.e.rec.submit();
      model.setBatch(Bp, Tp, { tokens, targets: new Int32Array(Bp * Tp), weights: new Float32Array(Bp * Tp) });
      const rowIdx = subview(a.rowIdx, 0, [Bp]);
      upload(model.e.gpu, rowIdx, Int32Array.from(part, (p, b) => b * Tp + p.length - 1));
      await model.forward();
      const rows = (x: Tensor) => reshape(subview(x, 0, [Bp * Tp * NKV * HS]), [Bp, Tp, NKV, HS]); // the part's post-RoPE k or v
      const pos = subview(a.pos, 0, [Bp]);
      for (let l = 0; l < model.cfg.L; l++) await this.cache.write(l, rows(model.acts.blocks[l].k), rows(model.acts.blocks[l].v), pos, row);
      if (!a.partLogits) {
        await gatherRows(model.e, model.logits(), rowIdx, a.logits);
      } else {
        // Rows of a.logits need not start at a bindable offset: gather into the part's own tensor and copy.
        const partLogits = subview(a.partLogits, 0, [Bp, V]);
        await gatherRows(model.e, model.logits(), rowIdx, partLogits);
        model.e.rec.copy(partLogits, subview(a.logits, row * V, [Bp, V]));
      }
    }
    return a.logits;
  }

  // tokens (B): the newest token of each sequence, at positions pos (B) (< Tmax; the cache holds
  // 0..pos[b]-1). Records one step — writes its k, v at pos[b] — and returns the next-token logits (B, V).
  async step(tokens: Int32Array, pos: Uint32Array): Promise<Tensor> {
    const { model, a } = this;
    const { e, cfg, params } = model;
    const { C } = cfg;
    e.rec.submit();
    upload(e.gpu, a.tokens, tokens);
    upload(e.gpu, a.pos, pos);
    await embeddingForward(e, a.tokens, params.get('wte'), null, reshape(a.res, [this.B, 1, C]));
    if (a.wpeRows) {
      upload(e.gpu, a.rowIdx, Int32Array.from(pos));
      await gatherRows(e, params.get('wpe'), a.rowIdx, a.wpeRows);
      await addInPlace(e, a.res, a.wpeRows);
    }
    for (let l = 0; l < cfg.L; l++) await this.block(l);
    await this.norm('lnf', a.res, a.xn);
    await linearForward(e, a.xn, params.get(cfg.tiedEmbeddings ? 'wte' : 'lm_head.w'), null, a.logits);
    return a.logits;
  }

  // a.res (B,C) is the block input and becomes its output: res += o(attention), then res += mlp
  private async block(l: number): Promise<void> {
    const { model, a } = this;
    const { e, cfg } = model;
    const { NH, NKV } = cfg;
    const p = `h.${l}`;
    // attention over the cache
    await this.norm(`${p}.ln1`, a.res, a.xn);
    await this.linear(a.xn, `${p}.attn.q`, a.q);
    await this.linear(a.xn, `${p}.attn.k`, a.k);
    await this.linear(a.xn, `${p}.attn.v`, a.v);
    if (cfg.positions === 'rope') {
      const pos = { base: a.pos, limit: this.Tmax };
      await ropeForward(e, this.heads(a.q, NH), { theta: cfg.ropeTheta, pos });
      await ropeForward(e, this.heads(a.k, NKV), { theta: cfg.ropeTheta, pos });
    }
    await this.cache.write(l, this.heads(a.k, NKV), this.heads(a.v, NKV), a.pos);
    await this.cache.attend(l, this.heads(a.q, NH), a.pos, this.heads(a.att, NH));
    await this.linear(a.att, `${p}.attn.o`, a.proj);
    await addInPlace(e, a.res, a.proj);
    // MLP
    await this.norm(`${p}.ln2`, a.res, a.xn);
    if (cfg.activation === 'swiglu') {
      await this.linear(a.xn, `${p}.mlp.gate`, a.gate);
      await this.linear(a.xn, `${p}.mlp.up`, a.up!);
      await swigluForward(e, a.gate, a.up!, a.h);
      await this.linear(a.h, `${p}.mlp.down`, a.proj);
    } else {
      await this.linear(a.xn, `${p}.mlp.fc`, a.gate);
      await geluForward(e, a.gate, a.h);
      await this.linear(a.h, `${p}.mlp.proj`, a.proj);
    }
    await addInPlace(e, a.res, a.proj);
  }

  // x is (B, H·HS) -> heads (B, 1, H, HS)
  private heads(x: Tensor, H: number): Heads {
    return asHeads(reshape(x, [this.B, 1, H, this.model.cfg.HS]), x.label ?? 'heads');
  }

  // x is (B,in), y is (B,out): y = x·wᵀ + b (+ LoRA when the model has it enabled)
  private async linear(x: Tensor, name: string, y: Tensor): Promise<void> {
    const { params, loraEnabled } = this.model;
    const w = `${name}.w`;
    const b = `${name}.b`;
    await linearForward(this.model.e, x, params.get(w), params.has(b) ? params.get(b) : null, y, loraEnabled ? this.lora.get(w) : undefined);
  }

  // inp is (B,C); out is (B,C) (statistics into the step's mean / rstd)
  private async norm(name: string, inp: Tensor, out: Tensor): Promise<void> {
    const { e, cfg, params } = this.model;
    const eps = cfg.normEps;
    if (cfg.norm === 'rmsnorm') await rmsnormForward(e, inp, params.get(`${name}.w`), out, this.a.rstd, { eps });
    else await layernormForward(e, inp, params.get(`${name}.w`), params.get(`${name}.b`), out, this.a.mean!, this.a.rstd, { eps });
  }

  release(): void {
    this.cache.release();
    for (const t of this.owned) this.model.e.pool.release(t);
  }
}
