// Token (+ learned position) embedding, forward and backward. Both are grid-stride loops over
// their output elements (1D dispatch). Binding 0 is the parameters.
// A table larger than one binding is bound as chunks of vocabulary rows [v0, v0 + vc), one dispatch
// each: `wte` / `dwte` are then the chunk, and ids outside it are left to the other dispatches
// (v0 = 0 and vc = V when unsplit).

override WG: u32 = 64;
// forward: add wpe[pos_offset + t] (GPT-2 learned positions); without it wpe is not read
override HAS_POS: bool = false;

struct Params {
  n: u32,          // forward: B*T*C; backward: U*C
  C: u32,
  T: u32,
  V: u32,
  pos_offset: u32, // position of t = 0 (non-zero when generating with a KV cache)
  bad: f32,        // written for token ids outside [0, V): NaN, so a bad id shows up in the loss
  v0: u32,         // first vocabulary row of the bound chunk of wte / dwte
  vc: u32,         // rows in that chunk
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> tokens: array<i32>;      // forward
@group(0) @binding(1) var<storage, read> ids: array<i32>;         // backward
@group(0) @binding(2) var<storage, read> wte: array<f32>;         // forward
@group(0) @binding(2) var<storage, read> starts: array<u32>;      // backward
@group(0) @binding(3) var<storage, read> wpe: array<f32>;         // forward
@group(0) @binding(3) var<storage, read> positions: array<u32>;   // backward
@group(0) @binding(4) var<storage, read_write> out: array<f32>;   // forward
@group(0) @binding(4) var<storage, read> dout: array<f32>;        // backward
@group(0) @binding(5) var<storage, read_write> dwte: array<f32>;  // backward

// tokens (B,T) i32, wte (V,C), wpe (maxT,C) -> out (B,T,C):
//   out[b,t,:] = wte[tokens[b,t],:] (+ wpe[pos_offset + t,:])
@compute @workgroup_size(WG)
fn forward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  for (var i = wid.x * WG + lid; i < p.n; i += nwg.x * WG) {
    let bt = i / p.C;
    let c = i - bt * p.C;
    let tok = tokens[bt];
    let valid = tok >= 0 && u32(tok) < p.V;
    let r = u32(tok) - p.v0; // wraps above vc for ids below the chunk
    if (!valid || r < p.vc) {
      var v = p.bad;
      if (valid) { v = wte[r * p.C + c]; }
      if (HAS_POS) { v += wpe[(p.pos_offset + bt % p.T) * p.C + c]; }
      out[i] = v;
    }
  }
}

// dout (B*T, C); the token index: ids (U) distinct token ids, starts (U+1), positions (B*T) the
// flat positions (b*T + t) of each id in increasing order, ids[u]'s at positions[starts[u]..starts[u+1]).
//   dwte[ids[u], c] += sum_j dout[positions[j], c]     (the forward line, transposed)
// Each (u, c) is owned by one invocation and summed in position order: deterministic, no atomics.
@compute @workgroup_size(WG)
fn backward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  for (var i = wid.x * WG + lid; i < p.n; i += nwg.x * WG) {
    let u = i / p.C;
    let c = i - u * p.C;
    let r = u32(ids[u]) - p.v0; // wraps above vc for ids below the chunk
    if (r < p.vc) {
      var s = 0.0;
      for (var j = starts[u]; j < starts[u + 1u]; j++) { s += dout[positions[j] * p.C + c]; }
      dwte[r * p.C + c] += s;
    }
  }
}
