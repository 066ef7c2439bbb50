// Generates the register attention backward kernels (see team.ts). The probabilities are
// recomputed from the saved row log-sum-exp: p = exp2(s2 - lse*log2(e)) with s2 the base-2 score.
// With ds = p (dp - D), dp = dout·v and D = rowsum(dout ∘ out):
//   'dq':   one team per block of MQ query rows of one head, keys in blocks of NK:
//           D = dout·out is computed first (and saved for 'dkdv'), then dq = scale Σ_j ds_j k_j.
//   'dkdv': one team per block of NKB keys of one kv head, visiting every query row that sees them
//           in every query head of the group, MR rows at a time: dv = Σ_i p_i dout_i,
//           dk = scale Σ_i ds_i q_i. The group's heads are summed in a fixed order: deterministic.
// Only the accumulators (dq, or dk and dv) stay live across the loops (values live across a loop
// make SwiftShader's compile time explode); the rows a team reuses (q and dout in dq, k and v in
// dkdv) sit in a private array read at constant indices, and the others are loaded per block.
import { type Lanes, Team, indent, teamEntry } from './team';

export interface DqSpec {
  lanes: Lanes;
  HS: number;
  MQ: number;
  NK: number;
  /** Invocations per workgroup when lanes = 1. */
  WG: number;
}

export interface DkdvSpec {
  lanes: Lanes;
  HS: number;
  /** Keys per team. */
  NKB: number;
  /** Query rows per block. */
  MR: number;
  WG: number;
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/** The keys (of n) packed into slot v. */
const keysOf = (t: Team, v: number, n: number) => range(t.lanes).map((lane) => v * t.lanes + lane).filter((c) => c < n);

// Element offsets and row strides of each Heads view, then the sizes.
const PARAMS = `struct Params {
  T: u32, NH: u32, G: u32, nblk: u32, ntask: u32,
  qo: u32, qrs: u32, ko: u32, krs: u32, vo: u32, vrs: u32,
  oo: u32, ors: u32, doo: u32, dors: u32,
  go: u32, grs: u32, g2o: u32, g2rs: u32,
  scale2: f32,
}`;

/** Loads a register row `name` from `buf` at row address `addr`, optionally scaled. */
function loadRow(t: Team, name: string, buf: string, addr: string, scale = ''): string[] {
  return t.row(name).map((x, m) => `let ${x} = ${buf}[${addr} + ${t.at(m)}]${scale};`);
}

// dq pass. Bindings: q, k, v, out, dout, lse, dq, D, params. g* = dq view.
export function dqKernel(s: DqSpec): string {
  const t = new Team(s.lanes, s.HS);
  const HS = s.HS;
  const rows = range(s.MQ);
  const keys = range(s.NK);
  const slots = range(t.slots(s.NK));
  const B: string[] = [
    'let rb = p.nblk - 1u - task % p.nblk;',
    'let bh = task / p.nblk;',
    'let b = bh / p.NH;',
    'let h = bh % p.NH;',
    'let g = h / p.G;',
    `let i0 = rb * ${s.MQ}u;`,
    'let last = p.T - 1u;',
    `let kb = p.ko + b * p.T * p.krs + g * ${HS}u;`,
    `let vb = p.vo + b * p.T * p.vrs + g * ${HS}u;`,
  ];
  for (const r of rows) {
    B.push(`let ir${r} = min(i0 + ${r}u, last);`);
    B.push(`let row${r} = b * p.T + ir${r};`);
    B.push(`let qa${r} = p.qo + row${r} * p.qrs + h * ${HS}u;`);
    B.push(`let da${r} = p.doo + row${r} * p.dors + h * ${HS}u;`);
    // D_r = dout_r · out_r, saved for the dkdv pass.
    B.push(...loadRow(t, `oo${r}`, 'out', `p.oo + row${r} * p.ors + h * ${HS}u`));
    B.push(...loadRow(t, `od${r}`, 'dout', `da${r}`));
    B.push(`let D${r} = ${t.sum(t.dot(t.row(`od${r}`), t.row(`oo${r}`)))};`);
    B.push(`let lse${r} = lse[bh * p.T + ir${r}] * ${Math.LOG2E};`);
    B.push(...t.row(`dq${r}`).map((x) => `var ${x} = 0.0;`));
  }
  const write0 = rows.map((r) => `if (i0 + ${r}u < p.T) { Dout[bh * p.T + ir${r}] = D${r}; }`);
  B.push(...(t.lanes === 4 ? ['if (l == 0u) {', ...write0.map((x) => `  ${x}`), '}'] : write0));
  // The q and dout rows, loaded once (Team.cacheRows); dout is already in registers for D.
  const cached = t.cacheRows('qd', [
    ...rows.map((r) => ({ name: `q${r}`, load: (m: number) => `q[qa${r} + ${t.at(m)}] * p.scale2` })),
    ...rows.map((r) => ({ name: `d${r}`, load: (m: number) => `od${r}_${m}` })),
  ]);
  B.push(...cached.fill);
  B.push(`let kend = min(i0 + ${s.MQ}u, p.T);`);
  B.push(`for (var j0 = 0u; j0 < kend; j0 += ${s.NK}u) {`);
  const L: string[] = [];
  for (const r of rows) L.push(...cached.read(r), ...cached.read(s.MQ + r));
  for (const c of keys) {
    L.push(`let jc${c} = min(j0 + ${c}u, last);`);
    L.push(...loadRow(t, `k${c}`, 'k', `kb + jc${c} * p.krs`));
    L.push(...loadRow(t, `v${c}`, 'v', `vb + jc${c} * p.vrs`));
    for (const r of rows) {
      L.push(`let x${r}_${c} = ${t.sum(t.dot(t.row(`q${r}`), t.row(`k${c}`)))};`);
      L.push(`let y${r}_${c} = ${t.sum(t.dot(t.row(`d${r}`), t.row(`v${c}`)))};`);
    }
  }
  for (const r of rows) {
    for (const v of slots) {
      const xs = keysOf(t, v, s.NK).map((c) => `x${r}_${c}`);
      const ys = keysOf(t, v, s.NK).map((c) => `y${r}_${c}`);
      L.push(`let p${r}_${v} = select(0.0, exp2(${t.pack(xs)} - lse${r}), j0 + ${t.keyOf(v)} <= i0 + ${r}u);`);
      L.push(`let ds${r}_${v} = p${r}_${v} * (${t.pack(ys)} - D${r});`);
    }
  }
  for (const c of keys) {
    const { v, lane } = t.slotOf(c);
    for (const r of rows) {
      L.push(`let w${r}_${c} = ${t.bcast(`ds${r}_${v}`, lane)};`);
      t.row(`dq${r}`).forEach((x, m) => L.push(`${x} += w${r}_${c} * k${c}_${m};`));
    }
  }
  B.push(indent(2, L), '}');
  // ds is the gradient of the base-2 score; q was scaled by scale*log2(e): dq = scale * Σ ds k.
  for (const r of rows) {
    B.push(`if (i0 + ${r}u < p.T) {`);
    B.push(`  let ga = p.go + row${r} * p.grs + h * ${HS}u;`);
    t.row(`dq${r}`).forEach((x, m) => B.push(`  dq[ga + ${t.at(m)}] = ${x} * p.scale2 * ${Math.LN2};`));
    B.push('}');
  }
  return `${t.header}// attention backward dq (and D), generated: lanes ${s.lanes}, HS ${HS}, ${s.MQ} rows per team, ${s.NK} keys per block
${PARAMS}
@group(0) @binding(0) var<storage, read> q: array<f32>;
@group(0) @binding(1) var<storage, read> k: array<f32>;
@group(0) @binding(2) var<storage, read> v: array<f32>;
@group(0) @binding(3) var<storage, read> out: array<f32>;
@group(0) @binding(4) var<storage, read> dout: array<f32>;
@group(0) @binding(5) var<storage, read> lse: array<f32>;
@group(0) @binding(6) var<storage, read_write> dq: array<f32>;
@group(0) @binding(7) var<storage, read_write> Dout: array<f32>;
@group(0) @binding(8) var<uniform> p: Params;

${teamEntry(t, s.WG, B)}`;
}

// dk/dv pass. Bindings: q, k, v, dout, lse, D, dk, params[, dv]; g* = dk view, g2* = dv view.
// When dk and dv share one buffer (a fused dqkv gradient) dv is written through the dk binding.
export function dkdvKernel(s: DkdvSpec, sharedBuffer: boolean): string {
  const t = new Team(s.lanes, s.HS);
  const HS = s.HS;
  const keys = range(s.NKB);
  const rows = range(s.MR);
  const slots = range(t.slots(s.NKB));
  const dvBuf = sharedBuffer ? 'dk' : 'dv';
  const B: string[] = [
    'let kbk = task % p.nblk;',
    'let bg = task / p.nblk;',
    'let NKV = p.NH / p.G;',
    'let b = bg / NKV;',
    'let g = bg % NKV;',
    `let j0 = kbk * ${s.NKB}u;`,
    'let last = p.T - 1u;',
  ];
  for (const c of keys) {
    B.push(`let jc${c} = min(j0 + ${c}u, last);`);
    B.push(...t.row(`dk${c}`).map((x) => `var ${x} = 0.0;`));
    B.push(...t.row(`dv${c}`).map((x) => `var ${x} = 0.0;`));
  }
  // The team's k and v rows, loaded once (Team.cacheRows).
  const cached = t.cacheRows('kv', [
    ...keys.map((c) => ({ name: `k${c}`, load: (m: number) => `k[p.ko + (b * p.T + jc${c}) * p.krs + g * ${HS}u + ${t.at(m)}]` })),
    ...keys.map((c) => ({ name: `v${c}`, load: (m: number) => `v[p.vo + (b * p.T + jc${c}) * p.vrs + g * ${HS}u + ${t.at(m)}]` })),
  ]);
  B.push(...cached.fill);
  B.push(`for (var hh = 0u; hh < p.G; hh++) {`);
  B.push('  let h = g * p.G + hh;');
  B.push('  let lb = (b * p.NH + h) * p.T;');
  B.push(`  for (var i0 = j0; i0 < p.T; i0 += ${s.MR}u) {`);
  const L: string[] = [];
  for (const c of keys) L.push(...cached.read(c), ...cached.read(s.NKB + c));
  for (const r of rows) {
    L.push(`let ir${r} = min(i0 + ${r}u, last);`);
    L.push(...loadRow(t, `q${r}`, 'q', `p.qo + (b * p.T + ir${r}) * p.qrs + h * ${HS}u`, ' * p.scale2'));
    L.push(...loadRow(t, `d${r}`, 'dout', `p.doo + (b * p.T + ir${r}) * p.dors + h * ${HS}u`));
    L.push(`let lse${r} = lse[lb + ir${r}] * ${Math.LOG2E};`);
    L.push(`let D${r} = Din[lb + ir${r}];`);
    for (const c of keys) {
      L.push(`let x${r}_${c} = ${t.sum(t.dot(t.row(`q${r}`), t.row(`k${c}`)))};`);
      L.push(`let y${r}_${c} = ${t.sum(t.dot(t.row(`d${r}`), t.row(`v${c}`)))};`);
    }
    for (const v of slots) {
      const xs = keysOf(t, v, s.NKB).map((c) => `x${r}_${c}`);
      const ys = keysOf(t, v, s.NKB).map((c) => `y${r}_${c}`);
      // Row i0 + r sees key j0 + c when j0 + c <= i0 + r (rows past T are clamped copies: masked off).
      L.push(`let p${r}_${v} = select(0.0, exp2(${t.pack(xs)} - lse${r}), j0 + ${t.keyOf(v)} <= i0 + ${r}u && i0 + ${r}u < p.T);`);
      L.push(`let ds${r}_${v} = p${r}_${v} * (${t.pack(ys)} - D${r});`);
    }
    for (const c of keys) {
      const { v, lane } = t.slotOf(c);
      L.push(`let pw${r}_${c} = ${t.bcast(`p${r}_${v}`, lane)};`);
      L.push(`let sw${r}_${c} = ${t.bcast(`ds${r}_${v}`, lane)};`);
      t.row(`dv${c}`).forEach((x, m) => L.push(`${x} += pw${r}_${c} * d${r}_${m};`));
      t.row(`dk${c}`).forEach((x, m) => L.push(`${x} += sw${r}_${c} * q${r}_${m};`));
    }
  }
  B.push(indent(4, L), '  }', '}');
  // q carried scale*log2(e) and ds is w.r.t. the base-2 score: dk = ln(2) Σ ds q'.
  for (const c of keys) {
    B.push(`if (j0 + ${c}u < p.T) {`);
    B.push(`  let ka = p.go + (b * p.T + jc${c}) * p.grs + g * ${HS}u;`);
    B.push(`  let va = p.g2o + (b * p.T + jc${c}) * p.g2rs + g * ${HS}u;`);
    t.row(`dk${c}`).forEach((x, m) => B.push(`  dk[ka + ${t.at(m)}] = ${x} * ${Math.LN2};`));
    t.row(`dv${c}`).forEach((x, m) => B.push(`  ${dvBuf}[va + ${t.at(m)}] = ${x};`));
    B.push('}');
  }
  return `${t.header}// attention backward dk, dv, generated: lanes ${s.lanes}, HS ${HS}, ${s.NKB} keys per team, ${s.MR} rows per block
${PARAMS}
@group(0) @binding(0) var<storage, read> q: array<f32>;
@group(0) @binding(1) var<storage, read> k: array<f32>;
@group(0) @binding(2) var<storage, read> v: array<f32>;
@group(0) @binding(3) var<storage, read> dout: array<f32>;
@group(0) @binding(4) var<storage, read> lse: array<f32>;
@group(0) @binding(5) var<storage, read> Din: array<f32>;
@group(0) @binding(6) var<storage, read_write> dk: array<f32>;
@group(0) @binding(7) var<uniform> p: Params;
${sharedBuffer ? '' : '@group(0) @binding(8) var<storage, read_write> dv: array<f32>;\n'}
${teamEntry(t, s.WG, B)}`;
}
