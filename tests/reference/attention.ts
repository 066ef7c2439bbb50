// float64 references for causal self-attention with grouped-query heads.
// Layouts as the model produces them: q, out are (B, T, NH, HS); k, v are (B, T, NKV, HS);
// lse is (B, NH, T). Query head h uses kv head floor(h / (NH / NKV)).

export interface AttnDims {
  B: number;
  T: number;
  NH: number;
  NKV: number;
  HS: number;
}

type Arr = ArrayLike<number>;

const qIdx = (d: AttnDims, b: number, t: number, h: number) => ((b * d.T + t) * d.NH + h) * d.HS;
const kIdx = (d: AttnDims, b: number, t: number, g: number) => ((b * d.T + t) * d.NKV + g) * d.HS;

/** The softmax probabilities of row t of head h in sequence b: att[j] for j <= t, and the row's lse. */
function rowProbs(q: Arr, k: Arr, d: AttnDims, b: number, h: number, t: number, scale: number): { att: Float64Array; lse: number } {
  const g = Math.floor(h / (d.NH / d.NKV));
  const att = new Float64Array(t + 1);
  let max = -Infinity;
  for (let j = 0; j <= t; j++) {
    let s = 0;
    for (let i = 0; i < d.HS; i++) s += q[qIdx(d, b, t, h) + i] * k[kIdx(d, b, j, g) + i];
    att[j] = s * scale;
    max = Math.max(max, att[j]);
  }
  let sum = 0;
  for (let j = 0; j <= t; j++) {
    att[j] = Math.exp(att[j] - max);
    sum += att[j];
  }
  for (let j = 0; j <= t; j++) att[j] /= sum;
  return { att, lse: max + Math.log(sum) };
}

// out[b,t,h,:] = sum_{j<=t} softmax_j(scale * q[b,t,h,:]·k[b,j,g,:]) v[b,j,g,:]
export function attentionForwardRef(q: Arr, k: Arr, v: Arr, d: AttnDims, scale = 1 / Math.sqrt(d.HS)): { out: Float64Array; lse: Float64Array } {
  const out = new Float64Array(d.B * d.T * d.NH * d.HS);
  const lse = new Float64Array(d.B * d.NH * d.T);
  for (let b = 0; b < d.B; b++) {
    for (let h = 0; h < d.NH; h++) {
      const g = Math.floor(h / (d.NH / d.NKV));
      for (let t = 0; t < d.T; t++) {
        const { att, lse: l } = rowProbs(q, k, d, b, h, t, scale);
        lse[(b * d.NH + h) * d.T + t] = l;
        const o = qIdx(d, b, t, h);
        for (let j = 0; j <= t; j++) for (let i = 0; i < d.HS; i++) out[o + i] += att[j] * v[kIdx(d, b, j, g) + i];
      }
    }
  }
  return { out, lse };
}

// Backward of attentionForwardRef, analytically:
//   dv_j += p_j dout;  dp_j = dout·v_j;  ds_j = p_j (dp_j - sum_i p_i dp_i);
//   dq += scale ds_j k_j;  dk_j += scale ds_j q.
export function attentionBackwardRef(
  dout: Arr, q: Arr, k: Arr, v: Arr, d: AttnDims, scale = 1 / Math.sqrt(d.HS),
): { dq: Float64Array; dk: Float64Array; dv: Float64Array } {
  const dq = new Float64Array(q.length);
  const dk = new Float64Array(k.length);
  const dv = new Float64Array(v.length);
  for (let b = 0; b < d.B; b++) {
    for (let h = 0; h < d.NH; h++) {
      const g = Math.floor(h / (d.NH / d.NKV));
      for (let t = 0; t < d.T; t++) {
        const { att } = rowProbs(q, k, d, b, h, t, scale);
        const o = qIdx(d, b, t, h);
        const dp = new Float64Array(t + 1);
        let pdp = 0;
        for (let j = 0; j <= t; j++) {
          const kv = kIdx(d, b, j, g);
          for (let i = 0; i < d.HS; i++) {
            dv[kv + i] += att[j] * dout[o + i];
            dp[j] += dout[o + i] * v[kv + i];
          }
          pdp += att[j] * dp[j];
        }
        for (let j = 0; j <= t; j++) {
          const ds = att[j] * (dp[j] - pdp) * scale;
          const kv = kIdx(d, b, j, g);
          for (let i = 0; i < d.HS; i++) {
            dq[o + i] += ds * k[kv + i];
            dk[kv + i] += ds * q[o + i];
          }
        }
      }
    }
  }
  return { dq, dk, dv };
}

// Decode over a KV cache: q is (B, NH, HS) (one new token per sequence), kc and vc are
// (B, NKV, Tmax, HS), the token of sequence b attends cache positions 0..pos[b]. out is (B, NH, HS).
export function attentionDecodeRef(
  q: Arr, kc: Arr, vc: Arr, pos: ArrayLike<number>, d: { B: number; NH: number; NKV: number; HS: number; Tmax: number }, scale = 1 / Math.sqrt(d.HS),
): Float64Array {
  const out = new Float64Array(d.B * d.NH * d.HS);
  for (let b = 0; b < d.B; b++) {
    for (let h = 0; h < d.NH; h++) {
      const g = Math.floor(h / (d.NH / d.NKV));
      const n = pos[b] + 1;
      const s = new Float64Array(n);
      let max = -Infinity;
      for (let j = 0; j < n; j++) {
        for (let i = 0; i < d.HS; i++) s[j] += q[(b * d.NH + h) * d.HS + i] * kc[((b * d.NKV + g) * d.Tmax + j) * d.HS + i];
        s[j] *= scale;
        max = Math.max(max, s[j]);
      }
      let sum = 0;
      for (let j = 0; j < n; j++) sum += (s[j] = Math.exp(s[j] - max));
      for (let j = 0; j < n; j++) {
        for (let i = 0; i < d.HS; i++) out[(b * d.NH + h) * d.HS + i] += (s[j] / sum) * vc[((b * d.NKV + g) * d.Tmax + j) * d.HS + i];
      }
    }
  }
  return out;
}
