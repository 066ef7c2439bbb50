// LayerNorm (GPT-2), forward and backward. Rows are independent: `forward` and `backward` find
// their row and reduce over it with the prepended row_reduce_*.wgsl (one invocation or one
// workgroup per row, by variant; the grid may be folded 2D). `param_partials` is one invocation
// per (row chunk, channel).
// Binding 0 is always the parameters; each entry point's tensors follow in its launcher's order.

override WG: u32 = 64;
// backward: dinp += ... instead of dinp = ...
override ACCUMULATE: bool = false;
// param_partials: rows per chunk (each chunk writes one partial row of dweight and dbias)
override RCH: u32 = 64;

struct Params { N: u32, C: u32, eps: f32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> inp: array<f32>;
@group(0) @binding(2) var<storage, read> weight: array<f32>;      // forward, backward
@group(0) @binding(2) var<storage, read_write> pw: array<f32>;    // param_partials
@group(0) @binding(3) var<storage, read> bias: array<f32>;        // forward
@group(0) @binding(3) var<storage, read> dout: array<f32>;        // backward, param_partials
@group(0) @binding(4) var<storage, read_write> out: array<f32>;   // forward
@group(0) @binding(4) var<storage, read_write> dinp: array<f32>;  // backward
@group(0) @binding(4) var<storage, read_write> pb: array<f32>;    // param_partials
@group(0) @binding(5) var<storage, read_write> mean: array<f32>;  // written by forward, read by the others
@group(0) @binding(6) var<storage, read_write> rstd: array<f32>;

// inp (N,C), weight (C), bias (C) -> out (N,C), mean (N), rstd (N)
//   mean = sum(x)/C;  rstd = 1/sqrt(sum((x-mean)^2)/C + eps);  out = (x-mean)*rstd*weight + bias
// Mean and variance come from one pass over sums of d = x - K, with K = x[0] (the shifted-data
// algorithm): var = sum(d^2)/C - (sum(d)/C)^2 loses nothing to cancellation while K is within a
// few standard deviations of the mean, which a sample of the row is. One read of the row saved.
@compute @workgroup_size(WG)
fn forward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let n = row_index(wid.x + wid.y * nwg.x, lid);
  if (n >= p.N) { return; }
  let lane = row_lane(lid);
  let base = n * p.C;
  let K = inp[base];
  var s1 = 0.0;
  var s2 = 0.0;
  for (var c = lane; c < p.C; c += row_stride()) {
    let d = inp[base + c] - K;
    s1 += d;
    s2 += d * d;
  }
  let d_mean = row_sum(s1, lane) / f32(p.C);
  let variance = max(0.0, row_sum(s2, lane) / f32(p.C) - d_mean * d_mean);
  let m = K + d_mean;
  let rs = inverseSqrt(variance + p.eps);
  for (var c = lane; c < p.C; c += row_stride()) {
    out[base + c] = (inp[base + c] - m) * rs * weight[c] + bias[c];
  }
  if (lane == 0u) {
    mean[n] = m;
    rstd[n] = rs;
  }
}

// dout (N,C), inp (N,C), weight (C), mean (N), rstd (N) -> dinp (N,C)
// Differentiates out = norm*weight + bias with norm = (x-mean)*rstd:
//   dnorm = weight*dout;  dinp (+)= (dnorm - mean(dnorm) - norm*mean(dnorm*norm)) * rstd
@compute @workgroup_size(WG)
fn backward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let n = row_index(wid.x + wid.y * nwg.x, lid);
  if (n >= p.N) { return; }
  let lane = row_lane(lid);
  let base = n * p.C;
  let m = mean[n];
  let rs = rstd[n];
  var a = 0.0;
  var b = 0.0;
  for (var c = lane; c < p.C; c += row_stride()) {
    let dnorm = weight[c] * dout[base + c];
    a += dnorm;
    b += dnorm * (inp[base + c] - m) * rs;
  }
  let dnorm_mean = row_sum(a, lane) / f32(p.C);
  let dnorm_norm_mean = row_sum(b, lane) / f32(p.C);
  for (var c = lane; c < p.C; c += row_stride()) {
    let norm = (inp[base + c] - m) * rs;
    let g = (weight[c] * dout[base + c] - dnorm_mean - norm * dnorm_norm_mean) * rs;
    if (ACCUMULATE) { dinp[base + c] += g; } else { dinp[base + c] = g; }
  }
}

// dout (N,C), inp (N,C), mean (N), rstd (N) -> pw, pb (K,C) with K = ceil(N/RCH):
//   pw[k,c] = sum_{n in chunk k} dout[n,c]*norm[n,c];  pb[k,c] = sum_{n in chunk k} dout[n,c]
// (dweight = sum_n dout*norm and dbias = sum_n dout, finished by a column sum over k).
// One invocation per (k, c).
@compute @workgroup_size(WG)
fn param_partials(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * WG + lid;
  let K = (p.N + RCH - 1u) / RCH;
  if (i >= K * p.C) { return; }
  let k = i / p.C;
  let c = i - k * p.C;
  var sw = 0.0;
  var sb = 0.0;
  for (var n = k * RCH; n < min(p.N, (k + 1u) * RCH); n++) {
    let d = dout[n * p.C + c];
    sw += d * (inp[n * p.C + c] - mean[n]) * rstd[n];
    sb += d;
  }
  pw[i] = sw;
  pb[i] = sb;
}
