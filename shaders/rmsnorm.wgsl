// RMSNorm (Llama), forward and backward. Same structure as layernorm.wgsl: `forward` and
// `backward` reduce over their row with the prepended row_reduce_*.wgsl; `param_partials` is one
// invocation per (row chunk, channel). Binding 0 is the parameters.

override WG: u32 = 64;
// backward: dinp += ... instead of dinp = ...
override ACCUMULATE: bool = false;
// param_partials: rows per chunk (each chunk writes one partial row of dweight)
override RCH: u32 = 64;

struct Params { N: u32, C: u32, eps: f32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> inp: array<f32>;
@group(0) @binding(2) var<storage, read> weight: array<f32>;      // forward, backward
@group(0) @binding(2) var<storage, read_write> pw: array<f32>;    // param_partials
@group(0) @binding(3) var<storage, read_write> out: array<f32>;   // forward
@group(0) @binding(3) var<storage, read> dout: array<f32>;        // backward, param_partials
@group(0) @binding(4) var<storage, read_write> rstd: array<f32>;  // written by forward, read by the others
@group(0) @binding(5) var<storage, read_write> dinp: array<f32>;  // backward

// inp (N,C), weight (C) -> out (N,C), rstd (N)
//   rstd = 1/sqrt(sum(x^2)/C + eps);  out = x*rstd*weight
@compute @workgroup_size(WG)
fn forward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let n = row_index(wid.x + wid.y * nwg.x, lid);
  if (n >= p.N) { return; }
  let lane = row_lane(lid);
  let base = n * p.C;
  var s = 0.0;
  for (var c = lane; c < p.C; c += row_stride()) {
    let x = inp[base + c];
    s += x * x;
  }
  let rs = inverseSqrt(row_sum(s, lane) / f32(p.C) + p.eps);
  for (var c = lane; c < p.C; c += row_stride()) {
    out[base + c] = inp[base + c] * rs * weight[c];
  }
  if (lane == 0u) { rstd[n] = rs; }
}

// dout (N,C), inp (N,C), weight (C), rstd (N) -> dinp (N,C)
// Differentiates out = norm*weight with norm = x*rstd:
//   dnorm = weight*dout;  dinp (+)= (dnorm - norm*mean(dnorm*norm)) * rstd
@compute @workgroup_size(WG)
fn backward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let n = row_index(wid.x + wid.y * nwg.x, lid);
  if (n >= p.N) { return; }
  let lane = row_lane(lid);
  let base = n * p.C;
  let rs = rstd[n];
  var b = 0.0;
  for (var c = lane; c < p.C; c += row_stride()) {
    b += weight[c] * dout[base + c] * inp[base + c] * rs;
  }
  let dnorm_norm_mean = row_sum(b, lane) / f32(p.C);
  for (var c = lane; c < p.C; c += row_stride()) {
    let norm = inp[base + c] * rs;
    let g = (weight[c] * dout[base + c] - norm * dnorm_norm_mean) * rs;
    if (ACCUMULATE) { dinp[base + c] += g; } else { dinp[base + c] = g; }
  }
}

// dout (N,C), inp (N,C), rstd (N) -> pw (K,C) with K = ceil(N/RCH):
//   pw[k,c] = sum_{n in chunk k} dout[n,c]*norm[n,c]   (dweight = sum over k, by a column sum)
// One invocation per (k, c).
@compute @workgroup_size(WG)
fn param_partials(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * WG + lid;
  let K = (p.N + RCH - 1u) / RCH;
  if (i >= K * p.C) { return; }
  let k = i / p.C;
  let c = i - k * p.C;
  var sw = 0.0;
  for (var n = k * RCH; n < min(p.N, (k + 1u) * RCH); n++) {
    sw += dout[n * p.C + c] * inp[n * p.C + c] * rstd[n];
  }
  pw[i] = sw;
}
