// GELU, tanh approximation (GPT-2), forward and backward, elementwise over n values.
// A capped grid of workgroups strides over the elements (the dispatch is 1D, at most a few
// thousand workgroups). Binding 0 is the parameters.

override WG: u32 = 64;

struct Params { n: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> inp: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;   // forward
@group(0) @binding(2) var<storage, read_write> dinp: array<f32>;  // backward
@group(0) @binding(3) var<storage, read> dout: array<f32>;        // backward

const SCALE = 0.7978845608028654; // sqrt(2/pi)

// tanh(u) for the GELU argument; clamped because tanh of a large argument is NaN on some backends
// and tanh(±10) is ±1 in f32 anyway.
fn tanh_arg(x: f32) -> f32 {
  return tanh(clamp(SCALE * (x + 0.044715 * x * x * x), -10.0, 10.0));
}

// inp (n) -> out (n):  out = 0.5*x*(1 + tanh(sqrt(2/pi)*(x + 0.044715*x^3)))
@compute @workgroup_size(WG)
fn forward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  for (var i = wid.x * WG + lid; i < p.n; i += nwg.x * WG) {
    let x = inp[i];
    out[i] = 0.5 * x * (1.0 + tanh_arg(x));
  }
}

// inp (n), dout (n) -> dinp (n), differentiating the forward line above:
//   dinp = dout * (0.5*(1 + t) + 0.5*x*(1 - t^2)*sqrt(2/pi)*(1 + 3*0.044715*x^2)),  t = tanh(...)
@compute @workgroup_size(WG)
fn backward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  for (var i = wid.x * WG + lid; i < p.n; i += nwg.x * WG) {
    let x = inp[i];
    let t = tanh_arg(x);
    let local_grad = 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * SCALE * (1.0 + 3.0 * 0.044715 * x * x);
    dinp[i] = local_grad * dout[i];
  }
}
