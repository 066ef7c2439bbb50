// Rotary position embedding, rotate-half convention (Llama/HF): each head's pairs (i, i + HS/2)
// are rotated by angle pos * theta^(-2i/HS). cos/sin come from a table (rows, HS/2, 2) computed
// in float64 on the CPU. SIGN = -1 applies the transpose rotation (the backward).
// One invocation per pair; heads are read and written in place in their rows (x), or into y.

override WG: u32 = 64;

struct Params {
  n: u32, T: u32, H: u32, half: u32,
  xo: u32, xrs: u32, yo: u32, yrs: u32,
  rows: u32, has_pos: u32, sign: f32,
}

@group(0) @binding(0) var<storage, read_write> x: array<f32>;
@group(0) @binding(1) var<storage, read> table: array<f32>;
@group(0) @binding(2) var<storage, read> pos: array<u32>;
@group(0) @binding(3) var<uniform> p: Params;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;

struct Pair { a: u32, b: u32, c: f32, s: f32 }

// The pair handled by invocation `id`: offsets of x1 within its head row, x2 = x1 + half,
// and cos, sin (sin negated for the transpose). `a` is (b*T + t) and `b` is h*HS + i.
fn pair(id: u32) -> Pair {
  let i = id % p.half;
  let rest = id / p.half;
  let h = rest % p.H;
  let bt = rest / p.H;
  let t = bt % p.T;
  var at = t;
  if (p.has_pos != 0u) { at += pos[bt / p.T]; }
  let tb = (min(at, p.rows - 1u) * p.half + i) * 2u;
  return Pair(bt, h * 2u * p.half + i, table[tb], table[tb + 1u] * p.sign);
}

@compute @workgroup_size(WG)
fn inplace(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let id = gid.x + gid.y * nwg.x * WG;
  if (id >= p.n) { return; }
  let q = pair(id);
  let i1 = p.xo + q.a * p.xrs + q.b;
  let x1 = x[i1];
  let x2 = x[i1 + p.half];
  x[i1] = x1 * q.c - x2 * q.s;
  x[i1 + p.half] = x2 * q.c + x1 * q.s;
}

@compute @workgroup_size(WG)
fn outofplace(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let id = gid.x + gid.y * nwg.x * WG;
  if (id >= p.n) { return; }
  let q = pair(id);
  let i1 = p.xo + q.a * p.xrs + q.b;
  let o1 = p.yo + q.a * p.yrs + q.b;
  let x1 = x[i1];
  let x2 = x[i1 + p.half];
  y[o1] = x1 * q.c - x2 * q.s;
  y[o1 + p.half] = x2 * q.c + x1 * q.s;
}
