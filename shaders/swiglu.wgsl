// SwiGLU (Llama MLP), forward and backward, elementwise over n values: out = SiLU(gate) * up,
// gate and up as separate tensors (the outputs of two matmuls). A capped grid of workgroups
// strides over the elements. Binding 0 is the parameters.

override WG: u32 = 64;

struct Params { n: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> gate: array<f32>;
@group(0) @binding(2) var<storage, read> up: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;    // forward
@group(0) @binding(3) var<storage, read_write> dgate: array<f32>;  // backward
@group(0) @binding(4) var<storage, read_write> dup: array<f32>;    // backward
@group(0) @binding(5) var<storage, read> dout: array<f32>;         // backward

fn sigmoid(x: f32) -> f32 {
  return 1.0 / (1.0 + exp(-x)); // exp overflow gives 1/inf = 0, the right limit
}

// gate (n), up (n) -> out (n):  out = gate*sigmoid(gate) * up
@compute @workgroup_size(WG)
fn forward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  for (var i = wid.x * WG + lid; i < p.n; i += nwg.x * WG) {
    let g = gate[i];
    out[i] = g * sigmoid(g) * up[i];
  }
}

// gate (n), up (n), dout (n) -> dgate (n), dup (n), differentiating the forward line above:
//   dup = dout * silu(g);  dgate = dout * up * s * (1 + g*(1 - s)),  s = sigmoid(g)
@compute @workgroup_size(WG)
fn backward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  for (var i = wid.x * WG + lid; i < p.n; i += nwg.x * WG) {
    let g = gate[i];
    let s = sigmoid(g);
    let d = dout[i];
    dup[i] = d * g * s;
    dgate[i] = d * up[i] * s * (1.0 + g * (1.0 - s));
  }
}
