// Column sums, deterministic in two passes: x (R, C) is cut into chunks of RCH rows; pass 1 writes
// one partial row per chunk (K = ceil(R / RCH) rows), pass 2 runs the same kernel on the (K, C)
// partials with one chunk covering them all. A single chunk (R <= RCH) goes straight to out.
//   out[k, c] (+)= sum_{r in chunk k} x[r, c]
// One invocation per output element; the grid may be folded 2D (flat id = wid.x + wid.y * nwg.x).

override WG: u32 = 64;
override ACCUMULATE: bool = false;

struct Params { R: u32, C: u32, RCH: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * WG + lid;
  let K = (p.R + p.RCH - 1u) / p.RCH;
  if (i >= K * p.C) { return; }
  let k = i / p.C;
  let c = i - k * p.C;
  let r1 = min(p.R, (k + 1u) * p.RCH);
  var s = 0.0;
  for (var r = k * p.RCH; r < r1; r++) { s += x[r * p.C + c]; }
  if (ACCUMULATE) { out[i] += s; } else { out[i] = s; }
}
