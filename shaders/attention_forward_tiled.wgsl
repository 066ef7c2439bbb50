// Causal attention forward with workgroup-memory tiles, for discrete GPUs (FlashAttention-2 style).
// One workgroup per block of BR query rows of one head; keys come in tiles of BC rows of k and v
// staged in workgroup memory. TPR = 4 invocations per query row, each owning the dims
// d = u, u + 4, u + 8, ... of its row's output, and scoring its share of the (row, key) pairs.
// Bindings and parameters are those of the register forward (src/kernels/attention/forward-gen.ts).

override HS: u32 = 64;
override BR: u32 = 16;
override BC: u32 = 16;
const TPR = 4u;
/** Dims per invocation, HS / TPR, at most DMAX (HS <= 256). */
const DMAX = 64u;
const NEG = -3.0e38;

struct Params {
  T: u32, NH: u32, G: u32, nrb: u32, ntask: u32,
  qo: u32, qrs: u32, ko: u32, krs: u32, vo: u32, vrs: u32, oo: u32, ors: u32,
  scale2: f32,
}

@group(0) @binding(0) var<storage, read> q: array<f32>;
@group(0) @binding(1) var<storage, read> k: array<f32>;
@group(0) @binding(2) var<storage, read> v: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<storage, read_write> lse: array<f32>;
@group(0) @binding(5) var<uniform> p: Params;

var<workgroup> qs: array<f32, BR * HS>;
var<workgroup> ks: array<f32, BC * HS>;
var<workgroup> vs: array<f32, BC * HS>;
var<workgroup> ss: array<f32, BR * BC>;

@compute @workgroup_size(BR * TPR)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let task = wid.x + wid.y * nwg.x;
  if (task >= p.ntask) { return; }
  let WG = BR * TPR;
  let rb = p.nrb - 1u - task % p.nrb;
  let bh = task / p.nrb;
  let b = bh / p.NH;
  let h = bh % p.NH;
  let g = h / p.G;
  let i0 = rb * BR;
  let last = p.T - 1u;
  for (var e = lid; e < BR * HS; e += WG) {
    let i = min(i0 + e / HS, last);
    qs[e] = q[p.qo + (b * p.T + i) * p.qrs + h * HS + e % HS] * p.scale2;
  }
  let r = lid / TPR;
  let u = lid % TPR;
  let dpt = HS / TPR;
  var o: array<f32, DMAX>;
  var m = NEG;
  var l = 0.0;
  let kend = min(i0 + BR, p.T);
  for (var j0 = 0u; j0 < kend; j0 += BC) {
    workgroupBarrier();
    for (var e = lid; e < BC * HS; e += WG) {
      let j = min(j0 + e / HS, last);
      ks[e] = k[p.ko + (b * p.T + j) * p.krs + g * HS + e % HS];
      vs[e] = v[p.vo + (b * p.T + j) * p.vrs + g * HS + e % HS];
    }
    workgroupBarrier();
    for (var e = lid; e < BR * BC; e += WG) {
      let rr = e / BC;
      let c = e % BC;
      var s = 0.0;
      for (var d = 0u; d < HS; d++) { s += qs[rr * HS + d] * ks[c * HS + d]; }
      ss[e] = select(NEG, s, j0 + c <= i0 + rr);
    }
    workgroupBarrier();
    var mx = m;
    for (var c = 0u; c < BC; c++) { mx = max(mx, ss[r * BC + c]); }
    let corr = exp2(m - mx);
    m = mx;
    l *= corr;
    for (var x = 0u; x < dpt; x++) { o[x] *= corr; }
    for (var c = 0u; c < BC; c++) {
      let pc = exp2(ss[r * BC + c] - m);
      l += pc;
      for (var x = 0u; x < dpt; x++) { o[x] += pc * vs[c * HS + u + x * TPR]; }
    }
  }
  let i = i0 + r;
  if (i < p.T) {
    let oa = p.oo + (b * p.T + i) * p.ors + h * HS + u;
    for (var x = 0u; x < dpt; x++) { out[oa + x * TPR] = o[x] / l; }
    if (u == 0u) { lse[bh * p.T + i] = (m + log2(l)) * 0.6931471805599453; }
  }
}
