// Row reductions, serial variant: one invocation owns a whole row, so a "row reduction" is the
// identity and there is no barrier anywhere. Fastest on CPU adapters (SwiftShader), where barriers
// are expensive (the one-workgroup-per-row variants took 3-7x more CPU time there, measured).
// Same interface as row_reduce_subgroup.wgsl / row_reduce_workgroup.wgsl:
//   row_index(group, lid)  the row this invocation works on (group = flat workgroup id)
//   row_lane(lid)          its index among the invocations sharing the row
//   row_stride()           how many invocations share the row (loop step over the row)
//   row_sum, row_max, row_sum_u, row_min_u   reductions over those invocations
// The kernel that includes this file declares `override WG: u32`.

fn row_index(group: u32, lid: u32) -> u32 { return group * WG + lid; }
fn row_lane(lid: u32) -> u32 { return 0u; }
fn row_stride() -> u32 { return 1u; }

fn row_sum(v: f32, lane: u32) -> f32 { return v; }
fn row_max(v: f32, lane: u32) -> f32 { return v; }
fn row_sum_u(v: u32, lane: u32) -> u32 { return v; }
fn row_min_u(v: u32, lane: u32) -> u32 { return v; }
