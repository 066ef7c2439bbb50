import { describe, expect, it } from 'vitest';
import { type ModelConfig, tinyGpt2, tinyLlama } from '../../src/model/config';
import { type LoraSpec, type ParamLayout, type TensorSpec, paramLayout, tensorSpec, view } from '../../src/model/param-layout';
import { rng } from '../helpers/random';
import { type LossNorm, type RefBatch, mergeLora, refForward, refForwardBackward } from '../reference/model';
import { ropeForward } from '../reference/model/attention';
import { geluForward, swigluForward } from '../reference/model/mlp';
import { layernormForward, rmsnormForward } from '../reference/model/norms';

// Random parameters at a scale where every nonlinearity is exercised (activations O(1)).
function randomParams(layout: ParamLayout, seed: number): Float64Array {
  const r = rng(seed);
  const p = new Float64Array(layout.totalElements);
  for (const t of layout.tensors) {
    const v = view(p, t);
    const normWeight = /ln\w*\.w$/.test(t.name);
    for (let i = 0; i < v.length; i++) v[i] = normWeight ? 1 + 0.3 * (2 * r() - 1) : (2 * r() - 1) * (t.shape.length === 2 ? 0.6 : 0.3);
  }
  return p;
}

function randomLora(layout: ParamLayout, seed: number): Float64Array {
  const r = rng(seed);
  const p = new Float64Array(layout.lora!.totalElements);
  for (const t of layout.lora!.tensors) view(p, t).forEach((_, i, a) => (a[i] = (2 * r() - 1) * 0.5));
  return p;
}

interface Batch extends RefBatch {
  tokens: number[];
  targets: number[];
  weights?: number[];
}

function randomBatch(cfg: ModelConfig, B: number, T: number, seed: number, weights?: number[]): Batch {
  const r = rng(seed);
  const ids = () => Array.from({ length: B * T }, () => Math.floor(r() * cfg.V));
  return { B, T, tokens: ids(), targets: ids(), weights };
}

function norm2(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * a[i];
  return Math.sqrt(s);
}

const H = 1e-5;

/**
 * Central finite differences of `loss(buf)` for every element of every tensor, against the
 * analytic gradient. Per tensor: ‖g − fd‖ <= 1e-6·‖fd‖ + 1e-9 (the absolute floor only matters
 * for tensors whose exact gradient is 0, e.g. GPT-2's key bias). Returns the failures.
 */
function gradCheck(tensors: TensorSpec[], buf: Float64Array, grads: Float64Array, loss: (b: Float64Array) => number): string[] {
  const bad: string[] = [];
  for (const t of tensors) {
    const fd = new Float64Array(t.size);
    for (let i = 0; i < t.size; i++) {
      const k = t.offset + i;
      const old = buf[k];
      buf[k] = old + H;
      const fp = loss(buf);
      buf[k] = old - H;
      const fm = loss(buf);
      buf[k] = old;
      fd[i] = (fp - fm) / (2 * H);
    }
    const g = view(grads, t);
    const err = norm2(g.map((x, i) => x - fd[i]));
    if (!(err <= 1e-6 * norm2(fd) + 1e-9)) bad.push(`${t.name}: ‖g−fd‖ ${err.toExponential(2)}, ‖fd‖ ${norm2(fd).toExponential(2)}, rel ${(err / norm2(fd)).toExponential(2)}`);
  }
  return bad;
}

/** Gradients outside every tensor (alignment padding) are exactly 0. */
function paddingIsZero(tensors: TensorSpec[], grads: Float64Array): boolean {
  const inside = new Uint8Array(grads.length);
  for (const t of tensors) inside.fill(1, t.offset, t.offset + t.size);
  return grads.every((g, i) => inside[i] === 1 || g === 0);
}

interface Case {
  name: string;
  cfg: ModelConfig;
  lora?: LoraSpec;
  B: number;
  T: number;
  weights?: number[];
  norm?: LossNorm;
}

const cases: Case[] = [
  { name: 'llama GQA (NH 4, NKV 2), untied', cfg: tinyLlama({ C: 16, NH: 4, NKV: 2, F: 24 }), B: 2, T: 5 },
  { name: 'llama multi-query (NKV 1), tied', cfg: tinyLlama({ C: 8, NH: 2, NKV: 1, F: 12, tied: true }), B: 2, T: 5 },
  { name: 'llama attention_bias + mlp_bias', cfg: tinyLlama({ C: 8, NH: 2, NKV: 2, F: 12, attentionBias: true, mlpBias: true }), B: 2, T: 4 },
  { name: 'qwen2 q/k/v biases, GQA, tied', cfg: tinyLlama({ architecture: 'Qwen2ForCausalLM', C: 16, NH: 4, NKV: 2, F: 20, tied: true, ropeTheta: 1e6 }), B: 2, T: 5 },
  { name: 'mistral GQA, untied', cfg: tinyLlama({ architecture: 'MistralForCausalLM', C: 8, NH: 2, NKV: 1, F: 12, V: 9 }), B: 1, T: 5 },
  { name: 'gpt2 (tied, learned positions)', cfg: tinyGpt2({ C: 8, NH: 2 }), B: 2, T: 5 },
  { name: 'gpt2 with masked, negative and fractional weights, weightSum', cfg: tinyGpt2({ C: 8, NH: 2, V: 7 }), B: 2, T: 4, weights: [1, 0, 0.5, -0.7, 0, 2, 1, 0], norm: 'weightSum' },
  { name: 'llama with masks, sum', cfg: tinyLlama({ C: 8, NH: 2, NKV: 1, F: 12 }), B: 2, T: 3, weights: [0, 1, 1, 0, 0, 1], norm: 'sum' },
  { name: 'llama with masks, fixed divisor 7', cfg: tinyLlama({ C: 8, NH: 2, NKV: 1, F: 12 }), B: 2, T: 3, weights: [1, 1, 0, 0.5, 1, 1], norm: 7 },
  { name: 'llama GQA + LoRA on every linear', cfg: tinyLlama({ C: 8, NH: 4, NKV: 2, F: 12 }), lora: { rank: 2, alpha: 3, targets: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] }, B: 2, T: 4 },
  { name: 'qwen2 + LoRA q_proj, v_proj', cfg: tinyLlama({ architecture: 'Qwen2ForCausalLM', C: 8, NH: 2, NKV: 1, F: 12, tied: true }), lora: { rank: 3, alpha: 6, targets: ['q_proj', 'v_proj'] }, B: 2, T: 4 },
  { name: 'gpt2 + LoRA c_attn, c_proj, c_fc', cfg: tinyGpt2({ C: 8, NH: 2, V: 9 }), lora: { rank: 2, alpha: 4, targets: ['c_attn', 'c_proj', 'c_fc'] }, B: 2, T: 4 },
];

describe('reference model gradients match central finite differences (float64, rel err < 1e-6 per tensor)', () => {
  cases.forEach((c, ci) => {
    it(c.name, () => {
      const layout = paramLayout(c.cfg, c.lora);
      const params = randomParams(layout, 100 + ci);
      const lora = layout.lora ? randomLora(layout, 200 + ci) : undefined;
      const batch = randomBatch(c.cfg, c.B, c.T, 300 + ci, c.weights);
      if (c.weights) batch.targets = batch.targets.map((t, i) => (c.weights![i] === 0 ? -1 : t)); // masked targets are never read
      const opts = { norm: c.norm, lora };
      const res = refForwardBackward(layout, params, batch, opts);
      expect(Number.isFinite(res.loss) && res.loss !== 0).toBe(true);
      expect(refForward(layout, params, batch, opts).loss).toBe(res.loss);

      expect(gradCheck(layout.tensors, params, res.grads, (p) => refForward(layout, p, batch, opts).loss)).toEqual([]);
      expect(paddingIsZero(layout.tensors, res.grads)).toBe(true);
      if (layout.lora) {
        expect(gradCheck(layout.lora.tensors, lora!, res.loraGrads!, (l) => refForward(layout, params, batch, { ...opts, lora: l }).loss)).toEqual([]);
        expect(paddingIsZero(layout.lora.tensors, res.loraGrads!)).toBe(true);
      } else {
        expect(res.loraGrads).toBeNull();
      }
    });
  });

  it('GPT-2 key bias gets exactly zero gradient (softmax is shift invariant without RoPE)', () => {
    const layout = paramLayout(tinyGpt2({ C: 8, NH: 2 }));
    const res = refForwardBackward(layout, randomParams(layout, 1), randomBatch(layout.config, 2, 5, 2));
    expect(norm2(view(res.grads, tensorSpec(layout, 'h.0.attn.k.b')))).toBeLessThan(1e-14);
    expect(norm2(view(res.grads, tensorSpec(layout, 'h.0.attn.q.b')))).toBeGreaterThan(1e-4);
  });
});

describe('reference model forward: properties independent of the backward', () => {
  it('GQA equals multi-head attention with each kv head repeated for its query group', () => {
    const gqa = paramLayout(tinyLlama({ C: 16, NH: 4, NKV: 2 }));
    const mha = paramLayout(tinyLlama({ C: 16, NH: 4, NKV: 4 }));
    const p = randomParams(gqa, 7);
    const q = new Float64Array(mha.totalElements);
    for (const t of mha.tensors) {
      const src = view(p, tensorSpec(gqa, t.name));
      const dst = view(q, t);
      if (/attn\.[kv]\.w$/.test(t.name)) {
        // MHA head h uses GQA kv head floor(h / 2): rows h*HS..(h+1)*HS of (NKV*HS, C)
        const rowLen = 16 * 4;
        for (let h = 0; h < 4; h++) dst.set(src.subarray(Math.floor(h / 2) * rowLen, (Math.floor(h / 2) + 1) * rowLen), h * rowLen);
      } else dst.set(src);
    }
    const batch = randomBatch(gqa.config, 2, 5, 8);
    expect(refForward(mha, q, batch).logits).toAllClose(refForward(gqa, p, batch).logits, { tol: 1e-13 });
  });

  it('tied equals untied with lm_head = wte, and the tied wte gradient is the sum of both', () => {
    const tied = paramLayout(tinyLlama({ C: 8, NH: 2, tied: true }));
    const untied = paramLayout(tinyLlama({ C: 8, NH: 2, tied: false }));
    const p = randomParams(tied, 9);
    const u = new Float64Array(untied.totalElements);
    for (const t of untied.tensors) view(u, t).set(view(p, tensorSpec(tied, t.name === 'lm_head.w' ? 'wte' : t.name)));
    const batch = randomBatch(tied.config, 2, 4, 10);
    const rt = refForwardBackward(tied, p, batch);
    const ru = refForwardBackward(untied, u, batch);
    expect(rt.logits).toAllClose(ru.logits, { tol: 1e-14 });
    const sum = view(ru.grads, tensorSpec(untied, 'wte')).map((g, i) => g + view(ru.grads, tensorSpec(untied, 'lm_head.w'))[i]);
    expect(view(rt.grads, tensorSpec(tied, 'wte'))).toAllClose(sum, { tol: 1e-13 });
  });

  for (const [family, cfg] of [['llama', tinyLlama()], ['gpt2', tinyGpt2()]] as const) {
    it(`${family}: causal (later tokens do not change earlier logits) and rows independent`, () => {
      const layout = paramLayout(cfg);
      const p = randomParams(layout, 11);
      const a = randomBatch(cfg, 2, 5, 12);
      const b = { ...a, tokens: [...a.tokens] };
      b.tokens[3] = (b.tokens[3] + 1) % cfg.V; // row 0, position 3
      const la = refForward(layout, p, a).logits;
      const lb = refForward(layout, p, b).logits;
      const V = cfg.V;
      expect(lb.subarray(0, 3 * V)).toEqual(la.subarray(0, 3 * V));
      expect(lb.subarray(5 * V)).toEqual(la.subarray(5 * V)); // row 1 untouched
      expect(norm2(lb.subarray(3 * V, 5 * V).map((x, i) => x - la[3 * V + i]))).toBeGreaterThan(1e-6);
      // Row 1 alone (B=1) gives the same logits as inside the batch.
      const alone = refForward(layout, p, { B: 1, T: 5, tokens: a.tokens.slice(5, 10), targets: a.targets.slice(5, 10) }).logits;
      expect(alone).toAllClose(la.subarray(5 * V), { tol: 1e-15 });
    });
  }

  it('zero final-norm weight gives uniform predictions: every nll = ln V', () => {
    const layout = paramLayout(tinyGpt2({ V: 11 }));
    const p = randomParams(layout, 13);
    view(p, tensorSpec(layout, 'lnf.w')).fill(0);
    view(p, tensorSpec(layout, 'lnf.b')).fill(0);
    const res = refForward(layout, p, randomBatch(layout.config, 2, 3, 14));
    for (const n of res.nll) expect(n).toBeCloseTo(Math.log(11), 14);
    expect(res.loss).toBeCloseTo(Math.log(11), 14);
  });

  it('loss normalisations combine the per-token nll as documented; masked targets are not read', () => {
    const layout = paramLayout(tinyLlama({ C: 8, NH: 2 }));
    const p = randomParams(layout, 15);
    const w = [1, 0, 2, 0.5, 0, -1];
    const batch = randomBatch(layout.config, 2, 3, 16, w);
    const { nll } = refForward(layout, p, batch);
    const wsum = w.reduce((a, x, i) => a + x * nll[i], 0);
    expect(refForward(layout, p, batch).loss).toBeCloseTo(wsum / 4, 14);
    expect(refForward(layout, p, batch, { norm: 'sum' }).loss).toBeCloseTo(wsum, 14);
    expect(refForward(layout, p, batch, { norm: 'weightSum' }).loss).toBeCloseTo(wsum / 4.5, 14);
    expect(refForward(layout, p, batch, { norm: 3 }).loss).toBeCloseTo(wsum / 3, 14);
    expect(nll[1]).toBe(0);
    const masked = { ...batch, targets: batch.targets.map((t, i) => (w[i] === 0 ? 999 : t)) };
    expect(refForward(layout, p, masked).loss).toBe(refForward(layout, p, batch).loss);
    const none = refForwardBackward(layout, p, { ...batch, weights: [0, 0, 0, 0, 0, 0] });
    expect([none.loss, norm2(none.grads)]).toEqual([0, 0]);
  });

  it('LoRA: B = 0 is the base model; merging puts (alpha/r)·B·A where PEFT does for GPT-2 Conv1D', () => {
    const cfg = tinyGpt2({ C: 8, NH: 2 });
    const layout = paramLayout(cfg, { rank: 2, alpha: 5, targets: ['c_attn'] });
    const base = paramLayout(cfg);
    const p = randomParams(layout, 17);
    const lora = randomLora(layout, 18);
    const batch = randomBatch(cfg, 1, 4, 19);
    const zeroB = Float64Array.from(lora);
    for (const a of layout.lora!.adapters) view(zeroB, a.B).fill(0);
    expect(refForward(layout, p, batch, { lora: zeroB }).logits).toEqual(refForward(base, p, batch).logits);
    // PEFT (fan_in_fan_out): c_attn.weight (C, 3C) += scale·(B·A)ᵀ. Our q/k/v are slices of c_attnᵀ.
    const merged = mergeLora(layout, p, lora);
    const ad = layout.lora!.adapters[1]; // layer 1 c_attn
    const A = view(lora, ad.A);
    const Bm = view(lora, ad.B);
    const C = 8;
    const r = 2;
    for (const [pi, part] of ['q', 'k', 'v'].entries()) {
      const W0 = view(p, tensorSpec(layout, `h.1.attn.${part}.w`));
      const W = view(merged, tensorSpec(layout, `h.1.attn.${part}.w`));
      for (let o = 0; o < C; o++) {
        for (let i = 0; i < C; i++) {
          let delta = 0; // (B·A)[out = pi*C + o, in = i]
          for (let c = 0; c < r; c++) delta += Bm[(pi * C + o) * r + c] * A[c * C + i];
          expect(W[o * C + i]).toBeCloseTo(W0[o * C + i] + 2.5 * delta, 14);
        }
      }
    }
    expect(() => refForward(layout, p, batch)).toThrow(/pass its adapters as opts.lora/);
    expect(() => refForward(base, p, batch, { lora })).toThrow(/layout has no LoRA spec/);
  });

  it('rejects tokens outside the vocabulary, unmasked bad targets and T beyond maxT', () => {
    const layout = paramLayout(tinyGpt2({ V: 11, maxT: 4 }));
    const p = randomParams(layout, 20);
    expect(() => refForward(layout, p, { B: 1, T: 2, tokens: [1, 11], targets: [1, 2] })).toThrow(/token 11 at position 1 is outside the vocabulary/);
    expect(() => refForward(layout, p, { B: 1, T: 2, tokens: [1, 2], targets: [1, -1] })).toThrow(/target -1 at position 1/);
    expect(() => refForward(layout, p, { B: 1, T: 5, tokens: [1, 2, 3, 4, 5], targets: [1, 2, 3, 4, 5] })).toThrow(/T=5 exceeds the model's maximum sequence length 4/);
    expect(() => refForward(layout, new Float64Array(3), { B: 1, T: 1, tokens: [1], targets: [1] })).toThrow(/params has 3 elements/);
  });
});

describe('reference layers: known values and invariants', () => {
  it('GELU-tanh and SiLU at known points', () => {
    const g = new Float64Array(3);
    geluForward(g, Float64Array.from([1, -1, 0]));
    expect(g[0]).toBeCloseTo(0.8411919906082768, 15);
    expect(g[1]).toBeCloseTo(-0.15880800939172324, 15);
    expect(g[2]).toBe(0);
    const s = new Float64Array(2);
    swigluForward(s, Float64Array.from([1, 2]), Float64Array.from([1, 3]));
    expect(s[0]).toBeCloseTo(0.7310585786300049, 15); // silu(1)
    expect(s[1]).toBeCloseTo(3 * 2 / (1 + Math.exp(-2)), 15);
  });

  it('RoPE: identity at position 0, preserves norms, q·k depends only on the relative position', () => {
    const HS = 8;
    const T = 9;
    const r = rng(21);
    const qv = Array.from({ length: HS }, () => r() - 0.5);
    const kv = Array.from({ length: HS }, () => r() - 0.5);
    const q = Float64Array.from({ length: T * HS }, (_, i) => qv[i % HS]);
    const k = Float64Array.from({ length: T * HS }, (_, i) => kv[i % HS]);
    const qr = new Float64Array(q.length);
    const kr = new Float64Array(k.length);
    ropeForward(qr, q, 1, T, 1, HS, 10000);
    ropeForward(kr, k, 1, T, 1, HS, 10000);
    expect(qr.subarray(0, HS)).toEqual(q.subarray(0, HS));
    const dot = (m: number, n: number) => qr.subarray(m * HS, (m + 1) * HS).reduce((a, x, i) => a + x * kr[n * HS + i], 0);
    for (let t = 0; t < T; t++) expect(norm2(qr.subarray(t * HS, (t + 1) * HS))).toBeCloseTo(norm2(qv), 14);
    expect(dot(5, 2)).toBeCloseTo(dot(3, 0), 14);
    expect(dot(8, 6)).toBeCloseTo(dot(2, 0), 14);
    expect(Math.abs(dot(5, 2) - dot(5, 3))).toBeGreaterThan(1e-4);
    // Pair (i, i + HS/2) at position 1 rotates by theta^(-2i/HS): pair 0 by 1 radian.
    expect(qr[HS]).toBeCloseTo(qv[0] * Math.cos(1) - qv[HS / 2] * Math.sin(1), 15);
  });

  it('norms: LayerNorm output has mean 0 / variance 1, RMSNorm output has rms 1 (unit weight)', () => {
    const C = 6;
    const x = Float64Array.from([0.3, -1.2, 2.5, 0.7, -0.4, 1.1]);
    const one = new Float64Array(C).fill(1);
    const ln = new Float64Array(C);
    layernormForward(ln, new Float64Array(1), new Float64Array(1), x, one, new Float64Array(C), 1, C, 1e-12);
    expect(ln.reduce((a, b) => a + b) / C).toBeCloseTo(0, 14);
    expect(ln.reduce((a, b) => a + b * b, 0) / C).toBeCloseTo(1, 10);
    const rms = new Float64Array(C);
    rmsnormForward(rms, new Float64Array(1), x, one, 1, C, 1e-12);
    expect(rms.reduce((a, b) => a + b * b, 0) / C).toBeCloseTo(1, 10);
  });
});
