// Elementwise f32 kernels: residual add (out of place and in place), scale, fill, and a strided
// 2D copy. A capped grid of workgroups strides over the n elements (1D dispatch).
// Binding 0 is the parameters; each entry point's tensors follow it.

override WG: u32 = 64;

struct Params {
  n: u32,          // elements to write (copy2d: rows * cols)
  alpha: f32,      // scale factor, or the fill value
  cols: u32,       // copy2d: row length
  src_stride: u32, // copy2d: elements between source rows
  dst_stride: u32, // copy2d: elements between destination rows
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;           // add, scale, copy2d
@group(0) @binding(1) var<storage, read_write> acc: array<f32>;   // add_inplace, scale_inplace, fill
@group(0) @binding(2) var<storage, read> b: array<f32>;           // add, add_inplace
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;   // scale, copy2d
@group(0) @binding(3) var<storage, read_write> out: array<f32>;   // add

// out = a + b
@compute @workgroup_size(WG)
fn add(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  for (var i = wid.x * WG + lid; i < p.n; i += nwg.x * WG) { out[i] = a[i] + b[i]; }
}

// acc += b
@compute @workgroup_size(WG)
fn add_inplace(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  for (var i = wid.x * WG + lid; i < p.n; i += nwg.x * WG) { acc[i] += b[i]; }
}

// dst = alpha * a
@compute @workgroup_size(WG)
fn scale(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  for (var i = wid.x * WG + lid; i < p.n; i += nwg.x * WG) { dst[i] = p.alpha * a[i]; }
}

// acc *= alpha
@compute @workgroup_size(WG)
fn scale_inplace(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  for (var i = wid.x * WG + lid; i < p.n; i += nwg.x * WG) { acc[i] *= p.alpha; }
}

// acc = alpha
@compute @workgroup_size(WG)
fn fill(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  for (var i = wid.x * WG + lid; i < p.n; i += nwg.x * WG) { acc[i] = p.alpha; }
}

// dst[r*dst_stride + c] = a[r*src_stride + c] for r < n/cols, c < cols
@compute @workgroup_size(WG)
fn copy2d(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  for (var i = wid.x * WG + lid; i < p.n; i += nwg.x * WG) {
    let r = i / p.cols;
    let c = i - r * p.cols;
    dst[r * p.dst_stride + c] = a[r * p.src_stride + c];
  }
}
