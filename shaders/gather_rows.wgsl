// Row gather: out[b, c] = x[idx[b], c]. One invocation per output element; an index outside
// [0, R) writes NaN so a bad index is visible rather than silently reading another row.
// An x larger than one binding is bound as blocks of rows [r0, r0 + rc), one dispatch each: `x` is
// then the block and indices outside it are left to the other dispatches (r0 = 0, rc = R unsplit).

override WG: u32 = 64;

struct Params { B: u32, C: u32, R: u32, nan: f32, r0: u32, rc: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> idx: array<i32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.B * p.C) { return; }
  let b = i / p.C;
  let c = i % p.C;
  let r = idx[b];
  if (r < 0 || u32(r) >= p.R) {
    out[i] = p.nan; // a NaN from the uniform: WGSL rejects NaN constants
    return;
  }
  let rb = u32(r) - p.r0; // wraps above rc for rows below the block
  if (rb < p.rc) { out[i] = x[rb * p.C + c]; }
}
