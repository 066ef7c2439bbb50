// Fused softmax cross-entropy over rows of V logits. Two passes over a row: max, sum of exp and the
// entropy term together (online softmax); then, when GRAD, the gradient. The row and its reductions come from the
// prepended row_reduce_*.wgsl (one invocation or one workgroup per row, by variant); where the
// gradient goes (a separate tensor, or over the logits) from the appended store_grad snippet
// (see cross-entropy.ts).
// Binding 0 is the parameters. Logits larger than one binding are bound a block of rows at a time
// (cross-entropy.ts): `logits` (and dlogits) are then the block, N its row count, and row n of the
// block is row row0 + n of the per-row tensors (row0 = 0 when unsplit).

override WG: u32 = 256;
override GRAD: bool = true;

struct Params {
  N: u32,
  V: u32,
  dscale: f32, // multiplies every gradient, e.g. 1 / (number of unmasked tokens)
  bad: f32,    // NaN: the logit used for a target outside [0, V), so the loss of such a row is NaN
  row0: u32,   // first row of the bound block of logits
}

@group(0) @binding(0) var<uniform> p: Params;
// read_write so that the in-place variant can write the gradient over the logits
@group(0) @binding(1) var<storage, read_write> logits: array<f32>;
@group(0) @binding(2) var<storage, read> targets: array<i32>;
@group(0) @binding(3) var<storage, read> weights: array<f32>;
@group(0) @binding(4) var<storage, read_write> loss: array<f32>;
@group(0) @binding(5) var<storage, read_write> logprob: array<f32>;
@group(0) @binding(6) var<storage, read_write> entropy: array<f32>;

const LOWEST = -0x1.fffffep+127f;

// logits (N,V), targets (N) i32, weights (N) -> loss (N), logprob (N), entropy (N) [, dlogits (N,V)]
//   logZ = log sum_v exp(x_v);  logprob = x_t - logZ;  entropy = -sum_v p_v log p_v
//   loss = w * (logZ - x_t);  dlogits_v = w * dscale * (p_v - [v == t])   (0 where w == 0)
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let n = row_index(wid.x + wid.y * nwg.x, lid);
  if (n >= p.N) { return; }
  let lane = row_lane(lid);
  let base = n * p.V;
  let row = p.row0 + n;
  let t = targets[row];
  let w = weights[row];
  // read before the gradient pass, which the in-place variant writes over the row (in the block
  // variants, every invocation has read it before the first row reduction's barrier)
  var xt = p.bad;
  if (t >= 0 && u32(t) < p.V) { xt = logits[base + u32(t)]; }

  // One pass for the max, the sum of exp and the entropy term (online softmax): per invocation,
  //   m = running max,  s = sum exp(x - m),  u = sum exp(x - m) * (x - m),
  // rescaled when m grows (exp(m_old - m_new) <= 1), then rescaled to the row max M and summed.
  var m = LOWEST;
  var s = 0.0;
  var u = 0.0;
  for (var v = lane; v < p.V; v += row_stride()) {
    let x = logits[base + v];
    let m_new = max(m, x);
    let a = exp(m - m_new);
    let z = x - m_new;
    let ez = exp(z);
    u = a * (u + (m - m_new) * s) + select(0.0, ez * z, ez > 0.0); // a -inf logit adds 0, not 0 * -inf
    s = a * s + ez;
    m = m_new;
  }
  let M = row_max(m, lane);
  let a = exp(m - M);
  let S = row_sum(a * s, lane);
  let U = row_sum(a * (u + (m - M) * s), lane);
  let logZ = M + log(S);

  if (lane == 0u) {
    loss[row] = select(0.0, w * (logZ - xt), w != 0.0);
    logprob[row] = xt - logZ;
    entropy[row] = log(S) - U / S;
  }
  if (GRAD) {
    let g = w * p.dscale;
    let inv_s = 1.0 / S;
    for (var v = lane; v < p.V; v += row_stride()) {
      let prob = exp(logits[base + v] - M) * inv_s;
      // a masked row gets exact zeros, even if its logits are not finite
      store_grad(base + v, select(0.0, g * (prob - select(0.0, 1.0, i32(v) == t)), w != 0.0));
    }
  }
}
