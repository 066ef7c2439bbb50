// Attention backward, tiled dk/dv pass (appended to attention_backward_tiled.wgsl).
// Bindings 3..8: dout, lse, D, dk, params, dv; dkdv_shared writes dv through dk (one fused buffer).
@group(0) @binding(3) var<storage, read> dout: array<f32>;
@group(0) @binding(4) var<storage, read> lse: array<f32>;
@group(0) @binding(5) var<storage, read> Din: array<f32>;
@group(0) @binding(6) var<storage, read_write> dk: array<f32>;
@group(0) @binding(7) var<uniform> p: Params;
@group(0) @binding(8) var<storage, read_write> dv: array<f32>;

var<private> dka: array<f32, DMAX>;
var<private> dva: array<f32, DMAX>;

// Accumulates dk (without its ln 2 factor) and dv of key j0 + lid / TPR into dka, dva.
fn dkdv_acc(lid: u32, b: u32, g: u32, j0: u32) {
  let WG = BC * TPR;
  let c = lid / TPR;
  let u = lid % TPR;
  let dpt = HS / TPR;
  let last = p.T - 1u;
  for (var e = lid; e < BC * HS; e += WG) {
    let j = min(j0 + e / HS, last);
    ks[e] = k[p.ko + (b * p.T + j) * p.krs + g * HS + e % HS];
    vs[e] = v[p.vo + (b * p.T + j) * p.vrs + g * HS + e % HS];
  }
  for (var hh = 0u; hh < p.G; hh++) {
    let h = g * p.G + hh;
    let lb = (b * p.NH + h) * p.T;
    for (var i0 = j0; i0 < p.T; i0 += BR) {
      workgroupBarrier();
      for (var e = lid; e < BR * HS; e += WG) {
        let i = min(i0 + e / HS, last);
        qs[e] = q[p.qo + (b * p.T + i) * p.qrs + h * HS + e % HS] * p.scale2;
        dos[e] = dout[p.doo + (b * p.T + i) * p.dors + h * HS + e % HS];
      }
      for (var e = lid; e < BR; e += WG) {
        let i = min(i0 + e, last);
        ls[e] = lse[lb + i] * LOG2E;
        dd[e] = Din[lb + i];
      }
      workgroupBarrier();
      scores(lid, WG, i0, j0, p.T);
      workgroupBarrier();
      for (var rr = 0u; rr < BR; rr++) {
        let pw = ps[rr * BC + c];
        let sw = dss[rr * BC + c];
        for (var x = 0u; x < dpt; x++) {
          let d = u + x * TPR;
          dva[x] += pw * dos[rr * HS + d];
          dka[x] += sw * qs[rr * HS + d];
        }
      }
    }
  }
}

struct KeyAt { ka: u32, va: u32, ok: bool }

fn key_at(task: u32, lid: u32) -> KeyAt {
  let kb = task % p.nblk;
  let bg = task / p.nblk;
  let NKV = p.NH / p.G;
  let b = bg / NKV;
  let g = bg % NKV;
  let j = kb * BC + lid / TPR;
  let row = b * p.T + min(j, p.T - 1u);
  return KeyAt(p.go + row * p.grs + g * HS + lid % TPR, p.g2o + row * p.g2rs + g * HS + lid % TPR, j < p.T);
}

fn run_dkdv(task: u32, lid: u32) {
  let kb = task % p.nblk;
  let bg = task / p.nblk;
  let NKV = p.NH / p.G;
  dkdv_acc(lid, bg / NKV, bg % NKV, kb * BC);
}

@compute @workgroup_size(BC * TPR)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let task = wid.x + wid.y * nwg.x;
  if (task >= p.ntask) { return; }
  run_dkdv(task, lid);
  let at = key_at(task, lid);
  if (at.ok) {
    for (var x = 0u; x < HS / TPR; x++) {
      dk[at.ka + x * TPR] = dka[x] * LN2;
      dv[at.va + x * TPR] = dva[x];
    }
  }
}

@compute @workgroup_size(BC * TPR)
fn dkdv_shared(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let task = wid.x + wid.y * nwg.x;
  if (task >= p.ntask) { return; }
  run_dkdv(task, lid);
  let at = key_at(task, lid);
  if (at.ok) {
    for (var x = 0u; x < HS / TPR; x++) {
      dk[at.ka + x * TPR] = dka[x] * LN2;
      dk[at.va + x * TPR] = dva[x];
    }
  }
}
