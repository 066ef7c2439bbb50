// Split-K, second pass: C[b, m, n] = epilogue(sum over slices s of partials[s, b, m, n]).
// One invocation per element of C, slices summed in order: deterministic, no atomics.
// Appended to matmul_epilogue.wgsl (Params, C, bias, store_c).

override WG: u32 = 64;

@group(0) @binding(3) var<storage, read> partials: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * WG + lid;
  let mn = p.M * p.N;
  if (i >= p.batch * mn) { return; }
  var acc = 0.0;
  for (var s = 0u; s < p.slices; s++) {
    acc += partials[s * p.batch * mn + i];
  }
  let b = i / mn;
  let r = i % mn;
  store_c(b, r / p.N, r % p.N, acc);
}
