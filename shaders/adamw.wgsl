// AdamW (Loshchilov & Hutter, https://arxiv.org/abs/1711.05101; the update of torch.optim.AdamW),
// fused over a range [start, end) of flat parameter, gradient and moment buffers. A capped grid
// of workgroups strides over the range. Binding 0 is the parameters.

override WG: u32 = 64;

struct Params {
  start: u32,
  end: u32,
  lr: f32,
  beta1: f32,
  beta2: f32,
  eps: f32,
  weight_decay: f32, // 0 for ranges without decay (biases, norms)
  bc1: f32,          // bias corrections 1 - beta1^step and 1 - beta2^step (computed in f64 on the CPU)
  bc2: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> params: array<f32>;
@group(0) @binding(2) var<storage, read> grads: array<f32>;
@group(0) @binding(3) var<storage, read_write> m: array<f32>;
@group(0) @binding(4) var<storage, read_write> v: array<f32>;
@group(0) @binding(5) var<storage, read> grad_scale: array<f32>; // (1): clip scale, from grad_norm.wgsl

// params, grads, m, v (P); grad_scale (1)
//   g = grad * scale;  m = beta1*m + (1-beta1)*g;  v = beta2*v + (1-beta2)*g^2
//   param -= lr * ((m/bc1) / (sqrt(v/bc2) + eps) + weight_decay * param)
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let scale = grad_scale[0];
  for (var i = p.start + wid.x * WG + lid; i < p.end; i += nwg.x * WG) {
    let g = grads[i] * scale;
    let mi = p.beta1 * m[i] + (1.0 - p.beta1) * g;
    let vi = p.beta2 * v[i] + (1.0 - p.beta2) * g * g;
    m[i] = mi;
    v[i] = vi;
    let w = params[i];
    params[i] = w - p.lr * ((mi / p.bc1) / (sqrt(vi / p.bc2) + p.eps) + p.weight_decay * w);
  }
}
