// Attention backward, tiled dq pass (appended to attention_backward_tiled.wgsl).
// Bindings 3..8: out, dout, lse, dq, D, params.
@group(0) @binding(3) var<storage, read> out: array<f32>;
@group(0) @binding(4) var<storage, read> dout: array<f32>;
@group(0) @binding(5) var<storage, read> lse: array<f32>;
@group(0) @binding(6) var<storage, read_write> dq: array<f32>;
@group(0) @binding(7) var<storage, read_write> Dout: array<f32>;
@group(0) @binding(8) var<uniform> p: Params;

var<workgroup> part: array<f32, BR * TPR>;

@compute @workgroup_size(BR * TPR)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let task = wid.x + wid.y * nwg.x;
  if (task >= p.ntask) { return; }
  let WG = BR * TPR;
  let rb = p.nblk - 1u - task % p.nblk;
  let bh = task / p.nblk;
  let b = bh / p.NH;
  let h = bh % p.NH;
  let g = h / p.G;
  let i0 = rb * BR;
  let last = p.T - 1u;
  let r = lid / TPR;
  let u = lid % TPR;
  let dpt = HS / TPR;
  let ir = min(i0 + r, last);
  // D_r = dout_r · out_r, reduced over the row's TPR invocations.
  var part_d = 0.0;
  for (var x = 0u; x < dpt; x++) {
    let d = u + x * TPR;
    part_d += dout[p.doo + (b * p.T + ir) * p.dors + h * HS + d] * out[p.oo + (b * p.T + ir) * p.ors + h * HS + d];
  }
  part[lid] = part_d;
  for (var e = lid; e < BR * HS; e += WG) {
    let i = min(i0 + e / HS, last);
    qs[e] = q[p.qo + (b * p.T + i) * p.qrs + h * HS + e % HS] * p.scale2;
    dos[e] = dout[p.doo + (b * p.T + i) * p.dors + h * HS + e % HS];
  }
  workgroupBarrier();
  if (u == 0u) {
    var D = 0.0;
    for (var t = 0u; t < TPR; t++) { D += part[r * TPR + t]; }
    dd[r] = D;
    ls[r] = lse[bh * p.T + ir] * LOG2E;
    if (i0 + r < p.T) { Dout[bh * p.T + ir] = D; }
  }
  var acc: array<f32, DMAX>;
  let kend = min(i0 + BR, p.T);
  for (var j0 = 0u; j0 < kend; j0 += BC) {
    workgroupBarrier();
    for (var e = lid; e < BC * HS; e += WG) {
      let j = min(j0 + e / HS, last);
      ks[e] = k[p.ko + (b * p.T + j) * p.krs + g * HS + e % HS];
      vs[e] = v[p.vo + (b * p.T + j) * p.vrs + g * HS + e % HS];
    }
    workgroupBarrier();
    scores(lid, WG, i0, j0, p.T);
    workgroupBarrier();
    for (var c = 0u; c < BC; c++) {
      let w = dss[r * BC + c];
      for (var x = 0u; x < dpt; x++) { acc[x] += w * ks[c * HS + u + x * TPR]; }
    }
  }
  if (i0 + r < p.T) {
    let ga = p.go + (b * p.T + ir) * p.grs + h * HS + u;
    for (var x = 0u; x < dpt; x++) { dq[ga + x * TPR] = acc[x] * p.scale2 * LN2; }
  }
}
