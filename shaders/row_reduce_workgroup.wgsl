// Row reductions, one workgroup per row, without subgroups: a tree in workgroup memory,
// log2(WG) + 2 barriers per call; the result reaches every invocation as a uniform value.
// Interface: see row_reduce_serial.wgsl. WG must be a power of two; all WG invocations call
// together. The kernel declares `override WG: u32`.

var<workgroup> red_f: array<f32, WG>;
var<workgroup> red_u: array<u32, WG>;
var<workgroup> bcast_f: f32;
var<workgroup> bcast_u: u32;

fn row_index(group: u32, lid: u32) -> u32 { return group; }
fn row_lane(lid: u32) -> u32 { return lid; }
fn row_stride() -> u32 { return WG; }

fn row_sum(v: f32, lane: u32) -> f32 {
  red_f[lane] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lane < s) { red_f[lane] += red_f[lane + s]; }
    workgroupBarrier();
  }
  if (lane == 0u) { bcast_f = red_f[0]; }
  return workgroupUniformLoad(&bcast_f);
}

fn row_max(v: f32, lane: u32) -> f32 {
  red_f[lane] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lane < s) { red_f[lane] = max(red_f[lane], red_f[lane + s]); }
    workgroupBarrier();
  }
  if (lane == 0u) { bcast_f = red_f[0]; }
  return workgroupUniformLoad(&bcast_f);
}

fn row_sum_u(v: u32, lane: u32) -> u32 {
  red_u[lane] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lane < s) { red_u[lane] += red_u[lane + s]; }
    workgroupBarrier();
  }
  if (lane == 0u) { bcast_u = red_u[0]; }
  return workgroupUniformLoad(&bcast_u);
}

fn row_min_u(v: u32, lane: u32) -> u32 {
  red_u[lane] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lane < s) { red_u[lane] = min(red_u[lane], red_u[lane + s]); }
    workgroupBarrier();
  }
  if (lane == 0u) { bcast_u = red_u[0]; }
  return workgroupUniformLoad(&bcast_u);
}
