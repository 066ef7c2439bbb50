// Token sampling per row of logits: temperature, top-k, top-p, then a Gumbel-max draw over the
// kept tokens; greedy argmax when temperature <= 0. The row and its reductions come from the
// prepended row_reduce_*.wgsl (one invocation or one workgroup per row, by variant).
//
// Without top-k/top-p, one pass over the row does everything: the running max and sum of exp
// (online softmax, for the log-prob) and the draw. With them, thresholds are found without sorting
// or reading the row back: logits are compared through an order-preserving f32 -> u32 key, and a
// 4-way search over keys (16 passes over the row, each probing 3 thresholds) finds
//   top-k: the largest key t with count(key >= t) >= k            (the k-th largest logit)
//   top-p: the largest key t >= t_k with mass(key >= t) >= top_p * mass(key >= t_k)
// where mass is the sum of exp(z - max); tokens with key >= the threshold are kept (ties at the
// threshold all kept), and a last pass draws among them.
// The draw is token = argmax over kept v of z_v + Gumbel(u_v), which samples softmax(z) restricted
// to the kept set; u_v is a counter-based hash of (seed, step, row, v): no state, the same draw for
// the same key on every device, independent across rows and steps.
//
// Binding 0 is the parameters.

override WG: u32 = 256;

struct Params {
  B: u32,
  V: u32,
  temperature: f32, // <= 0: greedy
  top_k: u32,       // 0 or >= V: off
  top_p: f32,       // >= 1: off
  seed: u32,
  step: u32,
  row_base: u32,    // the key's row is row_base + the row here (a batch sampled in parts draws as a whole)
  bad: f32,         // NaN: the log-prob reported when no token can be chosen
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read_write> tokens: array<i32>;
@group(0) @binding(3) var<storage, read_write> logprob: array<f32>;

const LOWEST = -0x1.fffffep+127f;
const NONE = 0xffffffffu;

// Order-preserving map: a < b as floats  <=>  key_of(a) < key_of(b) as u32 (for non-NaN values).
fn key_of(x: f32) -> u32 {
  let b = bitcast<u32>(x);
  return select(b | 0x80000000u, ~b, (b & 0x80000000u) != 0u);
}

// pcg4d, from Jarzynski & Olano, "Hash Functions for GPU Rendering" (JCGT 2020).
fn pcg4d(key: vec4u) -> vec4u {
  var v = key * 1664525u + 1013904223u;
  v.x += v.y * v.w; v.y += v.z * v.x; v.z += v.x * v.y; v.w += v.y * v.z;
  v ^= v >> vec4u(16u);
  v.x += v.y * v.w; v.y += v.z * v.x; v.z += v.x * v.y; v.w += v.y * v.z;
  return v;
}

// u in (0, 1) from the top 24 bits of the hash of (seed, step, row_base + row, v).
fn uniform01(row: u32, v: u32) -> f32 {
  let h = pcg4d(vec4u(p.seed, p.step, p.row_base + row, v)).x;
  return (f32(h >> 8u) + 0.5) * (1.0 / 16777216.0);
}

// Over the row, for three thresholds at once: the number of tokens with key >= t (mass = false)
// or the sum of their exp(z - M) (mass = true). Counts are exact in f32 below 2^24 tokens.
fn measure3(base: u32, inv_t: f32, M: f32, t: vec3u, mass: bool, lane: u32) -> vec3f {
  var acc = vec3f(0.0);
  for (var v = lane; v < p.V; v += row_stride()) {
    let z = logits[base + v] * inv_t;
    var w = 1.0;
    if (mass) { w = exp(z - M); }
    acc += select(vec3f(0.0), vec3f(w), vec3u(key_of(z)) >= t);
  }
  return vec3f(row_sum(acc.x, lane), row_sum(acc.y, lane), row_sum(acc.z, lane));
}

// The largest key t in [lo, hi] with F(t) >= goal, for F (measure3) nonincreasing in t: each pass
// probes t = lo + ceil(span * j / 4), j = 1, 2, 3, and keeps the quarter that holds the answer.
fn search(base: u32, inv_t: f32, M: f32, lo_in: u32, hi_in: u32, goal: f32, mass: bool, lane: u32) -> u32 {
  var lo = lo_in;
  var hi = hi_in;
  while (lo < hi) {
    let q = (hi - lo) / 4u;
    let r = (hi - lo) % 4u;
    let t = vec3u(lo + q + (r + 3u) / 4u, lo + 2u * q + (2u * r + 3u) / 4u, lo + 3u * q + (3u * r + 3u) / 4u);
    let f = measure3(base, inv_t, M, t, mass, lane);
    if (f.z >= goal) {
      lo = t.z;
    } else if (f.y >= goal) {
      lo = t.y;
      hi = t.z - 1u;
    } else if (f.x >= goal) {
      lo = t.x;
      hi = t.y - 1u;
    } else {
      hi = t.x - 1u;
    }
  }
  return lo;
}

// logits (B,V) -> tokens (B) i32, logprob (B): log p(token) under softmax(logits / temperature)
// before top-k/top-p (under softmax(logits) when greedy). No token (all logits NaN or -inf): -1, NaN.
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let row = row_index(wid.x + wid.y * nwg.x, lid);
  if (row >= p.B) { return; }
  let lane = row_lane(lid);
  let base = row * p.V;
  let greedy = p.temperature <= 0.0;
  let inv_t = select(1.0 / p.temperature, 1.0, greedy);
  let use_k = !greedy && p.top_k > 0u && p.top_k < p.V;
  let use_p = !greedy && p.top_p < 1.0;
  let draw_now = !(use_k || use_p); // nothing truncated: the first pass can draw

  // Per invocation: running max m and s = sum exp(z - m); the best score and its index (the first
  // on ties: v increases). A score of LOWEST or -inf never wins.
  var m = LOWEST;
  var s = 0.0;
  var best = LOWEST;
  var best_v = NONE;
  for (var v = lane; v < p.V; v += row_stride()) {
    let z = logits[base + v] * inv_t;
    let m_new = max(m, z);
    s = s * exp(m - m_new) + exp(z - m_new);
    m = m_new;
    if (draw_now) {
      var score = z;
      if (!greedy) { score = z - log(-log(uniform01(row, v))); }
      if (score > best) {
        best = score;
        best_v = v;
      }
    }
  }
  let M = row_max(m, lane);
  let S = row_sum(s * exp(m - M), lane);

  if (!draw_now) {
    var keep = 0u; // keep tokens with key >= keep
    var kept_mass = S;
    if (use_k) {
      keep = search(base, inv_t, M, 0u, key_of(M), f32(p.top_k), false, lane);
      kept_mass = measure3(base, inv_t, M, vec3u(keep), true, lane).x;
    }
    if (use_p) { keep = search(base, inv_t, M, keep, key_of(M), p.top_p * kept_mass, true, lane); }
    for (var v = lane; v < p.V; v += row_stride()) {
      let z = logits[base + v] * inv_t;
      let score = select(LOWEST, z - log(-log(uniform01(row, v))), key_of(z) >= keep);
      if (score > best) {
        best = score;
        best_v = v;
      }
    }
  }

  let top = row_max(best, lane);
  let chosen = row_min_u(select(NONE, best_v, best == top), lane);
  if (lane == 0u) {
    if (chosen == NONE) {
      tokens[row] = -1;
      logprob[row] = p.bad;
    } else {
      tokens[row] = i32(chosen);
      logprob[row] = logits[base + chosen] * inv_t - M - log(S);
    }
  }
}
