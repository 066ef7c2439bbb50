// Causal attention backward with workgroup-memory tiles, for discrete GPUs (FlashAttention-2 style),
// recomputing p = exp2(s2 - lse*log2(e)) from the saved log-sum-exp (s2: the base-2 score).
//   dq:   one workgroup per block of BR query rows; computes D = rowsum(dout ∘ out) (saved for
//         dkdv), then over key tiles: ds = p (dout·v - D), dq = scale Σ ds k.
//   dkdv: one workgroup per block of BC keys of one kv head, over the query rows of every head of
//         its group in tiles of BR: dv = Σ p dout, dk = scale Σ ds q. Deterministic (no atomics).
// TPR = 4 invocations per owned row (dq: query row, dkdv: key), each owning dims u, u + 4, ...
// Bindings and parameters are those of the register backward (src/kernels/attention/backward-gen.ts).
// This file holds what both passes share; the launcher appends attention_backward_tiled_dq.wgsl or
// attention_backward_tiled_dkdv.wgsl.

override HS: u32 = 64;
override BR: u32 = 16;
override BC: u32 = 16;
const TPR = 4u;
const DMAX = 64u;
const LOG2E = 1.4426950408889634;
const LN2 = 0.6931471805599453;

struct Params {
  T: u32, NH: u32, G: u32, nblk: u32, ntask: u32,
  qo: u32, qrs: u32, ko: u32, krs: u32, vo: u32, vrs: u32,
  oo: u32, ors: u32, doo: u32, dors: u32,
  go: u32, grs: u32, g2o: u32, g2rs: u32,
  scale2: f32,
}

@group(0) @binding(0) var<storage, read> q: array<f32>;
@group(0) @binding(1) var<storage, read> k: array<f32>;
@group(0) @binding(2) var<storage, read> v: array<f32>;

var<workgroup> qs: array<f32, BR * HS>;
var<workgroup> dos: array<f32, BR * HS>;
var<workgroup> ks: array<f32, BC * HS>;
var<workgroup> vs: array<f32, BC * HS>;
var<workgroup> ps: array<f32, BR * BC>;
var<workgroup> dss: array<f32, BR * BC>;
var<workgroup> ls: array<f32, BR>;
var<workgroup> dd: array<f32, BR>;

// p and ds for every (row, key) pair of the staged tiles: rows i0.., keys j0.. .
fn scores(lid: u32, wg: u32, i0: u32, j0: u32, T: u32) {
  for (var e = lid; e < BR * BC; e += wg) {
    let rr = e / BC;
    let c = e % BC;
    var s = 0.0;
    var dp = 0.0;
    for (var d = 0u; d < HS; d++) {
      s += qs[rr * HS + d] * ks[c * HS + d];
      dp += dos[rr * HS + d] * vs[c * HS + d];
    }
    let pv = select(0.0, exp2(s - ls[rr]), j0 + c <= i0 + rr && i0 + rr < T);
    ps[e] = pv;
    dss[e] = pv * (dp - dd[rr]);
  }
}
