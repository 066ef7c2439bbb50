// Decode attention over a KV cache with workgroup-memory tiles (for discrete GPUs). One workgroup
// per (b, query head): the token of sequence b attends cache positions 0..pos[b]. Keys come in
// tiles of WG: invocation t scores key j0 + t into workgroup memory, then every invocation
// updates the online softmax for the tile and its own dims d = t, t + WG, ... of the output.
// Bindings and parameters are those of the register decode kernel (src/kernels/attention/forward-gen.ts).

override WG: u32 = 64;
override HS: u32 = 64;
/** Output dims per invocation: ceil(HS / WG), at most DMAX. */
const DMAX = 4u;
const NEG = -3.0e38;

struct Params {
  Tmax: u32, NKV: u32, G: u32, nhc: u32, ntask: u32,
  qo: u32, qrs: u32, oo: u32, ors: u32,
  scale2: f32,
}

@group(0) @binding(0) var<storage, read> q: array<f32>;
@group(0) @binding(1) var<storage, read> k: array<f32>;
@group(0) @binding(2) var<storage, read> v: array<f32>;
@group(0) @binding(3) var<storage, read> pos: array<u32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
@group(0) @binding(5) var<uniform> p: Params;

var<workgroup> qs: array<f32, HS>;
var<workgroup> ss: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let task = wid.x + wid.y * nwg.x;
  if (task >= p.ntask) { return; }
  let NH = p.NKV * p.G;
  let b = task / NH;
  let h = task % NH;
  let cache = (b * p.NKV + h / p.G) * p.Tmax * HS;
  for (var d = lid; d < HS; d += WG) { qs[d] = q[p.qo + b * p.qrs + h * HS + d] * p.scale2; }
  let kend = min(pos[b], p.Tmax - 1u) + 1u;
  var o: array<f32, DMAX>;
  var m = NEG;
  var l = 0.0;
  for (var j0 = 0u; j0 < kend; j0 += WG) {
    workgroupBarrier();
    let j = j0 + lid;
    var s = NEG;
    if (j < kend) {
      s = 0.0;
      for (var d = 0u; d < HS; d++) { s += qs[d] * k[cache + j * HS + d]; }
    }
    ss[lid] = s;
    workgroupBarrier();
    let n = min(WG, kend - j0);
    var mx = m;
    for (var c = 0u; c < n; c++) { mx = max(mx, ss[c]); }
    let corr = exp2(m - mx);
    m = mx;
    l *= corr;
    for (var x = 0u; x < DMAX; x++) { o[x] *= corr; }
    for (var c = 0u; c < n; c++) {
      let pc = exp2(ss[c] - m);
      l += pc;
      for (var x = 0u; x < DMAX; x++) {
        let d = lid + x * WG;
        if (d < HS) { o[x] += pc * v[cache + (j0 + c) * HS + d]; }
      }
    }
  }
  for (var x = 0u; x < DMAX; x++) {
    let d = lid + x * WG;
    if (d < HS) { out[p.oo + b * p.ors + h * HS + d] = o[x] / l; }
  }
}
