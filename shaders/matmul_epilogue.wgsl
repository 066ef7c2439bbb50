// Shared by every matmul kernel (prepended to the generated code and to the split-K reduction):
// the parameters, the output and bias bindings, and the one function that writes C.
// Bindings 0-2 are fixed here; a kernel's own inputs follow at 3 and 4.
//
// A workgroup's z index is slice * batch + b (slice is 0 unless K is split). A partial result
// (flag PARTIAL) is written raw to C laid out as (slices, batch, M, N); otherwise
// C[b, m, n] = alpha * acc (+ bias[n]) (+ the previous C[b, m, n] when accumulating).

struct Params {
  M: u32,
  N: u32,
  K: u32,
  batch: u32,
  strideA: u32,  // elements between batch entries of A (0: one A for every batch entry)
  strideB: u32,  // elements between batch entries of B (0: a broadcast weight)
  kChunk: u32,   // K range of one slice (>= K when K is not split)
  flags: u32,
  alpha: f32,
  slices: u32,
}

const ACCUMULATE = 1u;
const BIAS = 2u;
const PARTIAL = 4u;
// The operands' layout, for kernels that read it at run time (subgroup-rb) instead of being generated per layout.
const TRANS_A = 8u;
const TRANS_B = 16u;

@group(0) @binding(0) var<storage, read_write> C: array<f32>;
@group(0) @binding(1) var<storage, read> bias: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

fn store_c(z: u32, m: u32, n: u32, acc: f32) {
  if (m >= p.M || n >= p.N) { return; }
  let i = (z * p.M + m) * p.N + n;
  if ((p.flags & PARTIAL) != 0u) {
    C[i] = acc;
    return;
  }
  var v = p.alpha * acc;
  if ((p.flags & BIAS) != 0u) { v += bias[n]; }
  if ((p.flags & ACCUMULATE) != 0u) { v += C[i]; }
  C[i] = v;
}
