// Global gradient norm and clip scale, deterministic in two passes, with no readback:
//   partial: row k (a contiguous chunk of the gradient) -> partials[k] = sum_{i in chunk k} g_i^2
//   finish:  row 0 sums the K partials; norm = sqrt(sum); scale = min(1, max_norm / (norm + 1e-6))
// Rows and their reductions come from the prepended row_reduce_*.wgsl. Binding 0 is the parameters.
// A gradient larger than one binding is bound a window at a time: `grads` is then the window, P its
// length, and its chunks' partial sums go to partials[first ..] (first = 0 when unsplit).

override WG: u32 = 256;

struct Params { P: u32, chunk: u32, max_norm: f32, first: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> grads: array<f32>;          // partial
@group(0) @binding(1) var<storage, read> partials_in: array<f32>;    // finish
@group(0) @binding(2) var<storage, read_write> partials: array<f32>; // partial
@group(0) @binding(2) var<storage, read_write> norm: array<f32>;     // finish: (1)
@group(0) @binding(3) var<storage, read_write> scale: array<f32>;    // finish: (1)

@compute @workgroup_size(WG)
fn partial(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let k = row_index(wid.x + wid.y * nwg.x, lid);
  let K = (p.P + p.chunk - 1u) / p.chunk;
  if (k >= K) { return; }
  let lane = row_lane(lid);
  let end = min(p.P, (k + 1u) * p.chunk);
  var s = 0.0;
  for (var i = k * p.chunk + lane; i < end; i += row_stride()) {
    let g = grads[i];
    s += g * g;
  }
  let total = row_sum(s, lane);
  if (lane == 0u) { partials[p.first + k] = total; }
}

@compute @workgroup_size(WG)
fn finish(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  if (row_index(wid.x + wid.y * nwg.x, lid) != 0u) { return; }
  let lane = row_lane(lid);
  let K = (p.P + p.chunk - 1u) / p.chunk;
  var s = 0.0;
  for (var k = lane; k < K; k += row_stride()) { s += partials_in[k]; }
  let n = sqrt(row_sum(s, lane));
  if (lane == 0u) {
    norm[0] = n;
    scale[0] = min(1.0, p.max_norm / (n + 1e-6));
  }
}
