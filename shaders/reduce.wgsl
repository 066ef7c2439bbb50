// Row reduction: out[r] = sum_n f(x[r, n]) with f = identity (sum) or square (sum of squares).
// One workgroup per row; each invocation strides over the row, then a tree reduction in
// workgroup memory. Rows beyond R (grid padding) do nothing.

override WG: u32 = 64;
override SQUARE: bool = false;

struct Params { R: u32, N: u32 }

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

var<workgroup> partial: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let r = wid.x + wid.y * nwg.x;
  if (r >= p.R) { return; }
  var acc = 0.0;
  let base = r * p.N;
  for (var n = lid; n < p.N; n += WG) {
    let v = x[base + n];
    acc += select(v, v * v, SQUARE);
  }
  partial[lid] = acc;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid < s) { partial[lid] += partial[lid + s]; }
    workgroupBarrier();
  }
  if (lid == 0u) { out[r] = partial[0]; }
}
