// KV cache append: the new rows of k and v (B, T, NKV, HS) heads, for one token (T = 1) or a
// prompt, go into the caches kc, vc (>= b0 + B, NKV, Tmax, HS) at cache row b0 + b, positions
// pos[b] + t. Positions at or past Tmax are skipped. One invocation per element.

override WG: u32 = 64;

struct Params { n: u32, T: u32, NKV: u32, HS: u32, Tmax: u32, ko: u32, krs: u32, vo: u32, vrs: u32, b0: u32 }

@group(0) @binding(0) var<storage, read> k: array<f32>;
@group(0) @binding(1) var<storage, read> v: array<f32>;
@group(0) @binding(2) var<storage, read> pos: array<u32>;
@group(0) @binding(3) var<storage, read_write> kc: array<f32>;
@group(0) @binding(4) var<storage, read_write> vc: array<f32>;
@group(0) @binding(5) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let id = gid.x + gid.y * nwg.x * WG;
  if (id >= p.n) { return; }
  let d = id % p.HS;
  let rest = id / p.HS;
  let g = rest % p.NKV;
  let bt = rest / p.NKV;
  let b = bt / p.T;
  let at = pos[b] + bt % p.T;
  if (at >= p.Tmax) { return; }
  let dst = (((p.b0 + b) * p.NKV + g) * p.Tmax + at) * p.HS + d;
  kc[dst] = k[p.ko + bt * p.krs + g * p.HS + d];
  vc[dst] = v[p.vo + bt * p.vrs + g * p.HS + d];
}
