enable subgroups;

// Row reductions, one workgroup per row, built on subgroup operations: each subgroup reduces in
// registers, one partial per subgroup goes through workgroup memory, and every subgroup finishes
// the sum of those partials itself. Two barriers per call. The result reaches every invocation
// as a uniform value (workgroupUniformLoad), so callers may branch and loop on it around barriers.
// Interface: see row_reduce_serial.wgsl.
//
// Assumptions: WG is a power of two, all WG invocations call together (uniform control flow),
// and subgroups are consecutive runs of local_invocation_index — true of the implementations we
// know, though WGSL does not promise it. The subgroup size is read as subgroupAdd(1u), so the same
// code serves sizes 4 (SwiftShader) to 128. The kernel declares `override WG: u32`.

var<workgroup> red_f: array<f32, WG>;
var<workgroup> red_u: array<u32, WG>;
var<workgroup> bcast_f: f32;
var<workgroup> bcast_u: u32;

fn row_index(group: u32, lid: u32) -> u32 { return group; }
fn row_lane(lid: u32) -> u32 { return lid; }
fn row_stride() -> u32 { return WG; }

fn row_sum(v: f32, lane: u32) -> f32 {
  let n = subgroupAdd(1u);
  let s = subgroupAdd(v);
  if (lane % n == 0u) { red_f[lane / n] = s; }
  workgroupBarrier();
  var t = 0.0;
  for (var i = lane % n; i < WG / n; i += n) { t += red_f[i]; }
  t = subgroupAdd(t);
  if (lane == 0u) { bcast_f = t; }
  return workgroupUniformLoad(&bcast_f);
}

fn row_max(v: f32, lane: u32) -> f32 {
  let n = subgroupAdd(1u);
  let s = subgroupMax(v);
  if (lane % n == 0u) { red_f[lane / n] = s; }
  workgroupBarrier();
  var t = s;
  for (var i = lane % n; i < WG / n; i += n) { t = max(t, red_f[i]); }
  t = subgroupMax(t);
  if (lane == 0u) { bcast_f = t; }
  return workgroupUniformLoad(&bcast_f);
}

fn row_sum_u(v: u32, lane: u32) -> u32 {
  let n = subgroupAdd(1u);
  let s = subgroupAdd(v);
  if (lane % n == 0u) { red_u[lane / n] = s; }
  workgroupBarrier();
  var t = 0u;
  for (var i = lane % n; i < WG / n; i += n) { t += red_u[i]; }
  t = subgroupAdd(t);
  if (lane == 0u) { bcast_u = t; }
  return workgroupUniformLoad(&bcast_u);
}

fn row_min_u(v: u32, lane: u32) -> u32 {
  let n = subgroupAdd(1u);
  let s = subgroupMin(v);
  if (lane % n == 0u) { red_u[lane / n] = s; }
  workgroupBarrier();
  var t = s;
  for (var i = lane % n; i < WG / n; i += n) { t = min(t, red_u[i]); }
  t = subgroupMin(t);
  if (lane == 0u) { bcast_u = t; }
  return workgroupUniformLoad(&bcast_u);
}
