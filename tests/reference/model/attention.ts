// float64 reference: RoPE (Llama rotate-half convention) and causal self-attention with
// grouped-query heads, forward and backward. Backward accumulates (+=) into its outputs.

// inp and out are (B,T,NX,HS) with NX heads; position of token t is t.
// Pairs (i, i + HS/2) rotate by angle t·theta^(-2i/HS) (HF rotate_half):
//   out[i] = x[i]·cos − x[i+HS/2]·sin,  out[i+HS/2] = x[i+HS/2]·cos + x[i]·sin
export function ropeForward(out: Float64Array, inp: Float64Array, B: number, T: number, NX: number, HS: number, theta: number): void {
  const half = HS / 2;
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      for (let h = 0; h < NX; h++) {
        const x = ((b * T + t) * NX + h) * HS;
        for (let i = 0; i < half; i++) {
          const angle = t * Math.pow(theta, (-2 * i) / HS);
          const c = Math.cos(angle);
          const s = Math.sin(angle);
          const x1 = inp[x + i];
          const x2 = inp[x + i + half];
          out[x + i] = x1 * c - x2 * s;
          out[x + i + half] = x2 * c + x1 * s;
        }
      }
    }
  }
}

// dout and dinp are (B,T,NX,HS); the rotation is orthogonal, so dinp is dout rotated back
export function ropeBackward(dinp: Float64Array, dout: Float64Array, B: number, T: number, NX: number, HS: number, theta: number): void {
  const half = HS / 2;
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      for (let h = 0; h < NX; h++) {
        const x = ((b * T + t) * NX + h) * HS;
        for (let i = 0; i < half; i++) {
          const angle = t * Math.pow(theta, (-2 * i) / HS);
          const c = Math.cos(angle);
          const s = Math.sin(angle);
          const d1 = dout[x + i];
          const d2 = dout[x + i + half];
          // out[i] = x1·c − x2·s;  out[i+half] = x2·c + x1·s
          dinp[x + i] += d1 * c + d2 * s;
          dinp[x + i + half] += -d1 * s + d2 * c;
        }
      }
    }
  }
}

// q is (B,T,NH,HS), k and v are (B,T,NKV,HS), out is (B,T,NH,HS); saves att (B,NH,T,T), the
// causal softmax probabilities. Query head h reads kv head h / (NH/NKV) (HF repeat_kv).
export function attentionForward(out: Float64Array, att: Float64Array, q: Float64Array, k: Float64Array, v: Float64Array, B: number, T: number, NH: number, NKV: number, HS: number): void {
  const group = NH / NKV;
  const scale = 1 / Math.sqrt(HS);
  att.fill(0);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < NH; h++) {
      const hk = Math.floor(h / group);
      for (let t = 0; t < T; t++) {
        const qo = ((b * T + t) * NH + h) * HS;
        const a = ((b * NH + h) * T + t) * T;
        // scores[t2] = q[t]·k[t2] * scale for t2 <= t; softmax over t2
        let max = -Infinity;
        for (let t2 = 0; t2 <= t; t2++) {
          const ko = ((b * T + t2) * NKV + hk) * HS;
          let s = 0;
          for (let i = 0; i < HS; i++) s += q[qo + i] * k[ko + i];
          att[a + t2] = s * scale;
          max = Math.max(max, att[a + t2]);
        }
        let sum = 0;
        for (let t2 = 0; t2 <= t; t2++) {
          att[a + t2] = Math.exp(att[a + t2] - max);
          sum += att[a + t2];
        }
        for (let t2 = 0; t2 <= t; t2++) att[a + t2] /= sum;
        // out[t] = Σ_t2 att[t2] * v[t2]
        for (let i = 0; i < HS; i++) {
          let s = 0;
          for (let t2 = 0; t2 <= t; t2++) s += att[a + t2] * v[((b * T + t2) * NKV + hk) * HS + i];
          out[qo + i] = s;
        }
      }
    }
  }
}

// dout is (B,T,NH,HS); dq is (B,T,NH,HS), dk and dv are (B,T,NKV,HS)
export function attentionBackward(dq: Float64Array, dk: Float64Array, dv: Float64Array, dout: Float64Array, q: Float64Array, k: Float64Array, v: Float64Array, att: Float64Array, B: number, T: number, NH: number, NKV: number, HS: number): void {
  const group = NH / NKV;
  const scale = 1 / Math.sqrt(HS);
  const datt = new Float64Array(T);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < NH; h++) {
      const hk = Math.floor(h / group);
      for (let t = 0; t < T; t++) {
        const qo = ((b * T + t) * NH + h) * HS;
        const a = ((b * NH + h) * T + t) * T;
        // out[t] = Σ_t2 att[t2] * v[t2]
        let dot = 0;
        for (let t2 = 0; t2 <= t; t2++) {
          const vo = ((b * T + t2) * NKV + hk) * HS;
          let s = 0;
          for (let i = 0; i < HS; i++) {
            s += dout[qo + i] * v[vo + i];
            dv[vo + i] += att[a + t2] * dout[qo + i];
          }
          datt[t2] = s;
          dot += att[a + t2] * s;
        }
        // att = softmax(scores): dscores[t2] = att[t2] * (datt[t2] − Σ att·datt)
        // scores[t2] = q[t]·k[t2] * scale
        for (let t2 = 0; t2 <= t; t2++) {
          const ds = att[a + t2] * (datt[t2] - dot) * scale;
          const ko = ((b * T + t2) * NKV + hk) * HS;
          for (let i = 0; i < HS; i++) {
            dq[qo + i] += ds * k[ko + i];
            dk[ko + i] += ds * q[qo + i];
          }
        }
      }
    }
  }
}
