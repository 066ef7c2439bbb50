// Generates the register attention forward kernels (see team.ts): FlashAttention-2 style online
// softmax, one team per block of MQ query rows, keys visited in blocks of NK.
//  - 'causal': rows are MQ consecutive positions of one query head; row i sees keys 0..i of the
//    same sequence. Writes out and the row log-sum-exp.
//  - 'decode': rows are up to MQ query heads of one kv-head group for the single new token of
//    sequence b, which sees cache positions 0..pos[b]. Writes out only.
// Scores are kept in base 2: q is scaled by scale*log2(e) as it is loaded, so p = exp2(s - m),
// and lse = (m + log2(l)) * ln 2.
import { type CachedRows, NEG, type Lanes, Team, indent, teamEntry } from './team';

export type ForwardMode = 'causal' | 'decode';

export interface ForwardSpec {
  mode: ForwardMode;
  lanes: Lanes;
  HS: number;
  /** Rows per team. */
  MQ: number;
  /** Keys per block (a multiple of lanes). */
  NK: number;
  /** Invocations per workgroup when lanes = 1 (for lanes = 4 the workgroup is the team). */
  WG: number;
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

const PARAMS: Record<ForwardMode, string> = {
  causal: `struct Params {
  T: u32, NH: u32, G: u32, nrb: u32, ntask: u32,
  qo: u32, qrs: u32, ko: u32, krs: u32, vo: u32, vrs: u32, oo: u32, ors: u32,
  scale2: f32,
}`,
  decode: `struct Params {
  Tmax: u32, NKV: u32, G: u32, nhc: u32, ntask: u32,
  qo: u32, qrs: u32, oo: u32, ors: u32,
  scale2: f32,
}`,
};

const BINDINGS: Record<ForwardMode, string> = {
  causal: `@group(0) @binding(0) var<storage, read> q: array<f32>;
@group(0) @binding(1) var<storage, read> k: array<f32>;
@group(0) @binding(2) var<storage, read> v: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<storage, read_write> lse: array<f32>;
@group(0) @binding(5) var<uniform> p: Params;`,
  decode: `@group(0) @binding(0) var<storage, read> q: array<f32>;
@group(0) @binding(1) var<storage, read> k: array<f32>;
@group(0) @binding(2) var<storage, read> v: array<f32>;
@group(0) @binding(3) var<storage, read> pos: array<u32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
@group(0) @binding(5) var<uniform> p: Params;`,
};

/** Task setup: which rows the team owns, where they are, and which keys they see. */
function prologue(s: ForwardSpec): string[] {
  const HS = s.HS;
  const rows = range(s.MQ);
  if (s.mode === 'causal') {
    return [
      // Row blocks near the end see the most keys: hand them out first.
      'let rb = p.nrb - 1u - task % p.nrb;',
      'let bh = task / p.nrb;',
      'let b = bh / p.NH;',
      'let h = bh % p.NH;',
      'let g = h / p.G;',
      `let i0 = rb * ${s.MQ}u;`,
      'let last = p.T - 1u;',
      ...rows.map((r) => `let ir${r} = min(i0 + ${r}u, last);`),
      `let qb = p.qo + b * p.T * p.qrs + h * ${HS}u;`,
      `let ob = p.oo + b * p.T * p.ors + h * ${HS}u;`,
      `let kb = p.ko + b * p.T * p.krs + g * ${HS}u;`,
      `let vb = p.vo + b * p.T * p.vrs + g * ${HS}u;`,
      'let krs = p.krs;',
      'let vrs = p.vrs;',
      ...rows.map((r) => `let qa${r} = qb + ir${r} * p.qrs;`),
      `let kend = min(i0 + ${s.MQ}u, p.T);`,
    ];
  }
  return [
    'let hc = task % p.nhc;',
    'let bg = task / p.nhc;',
    'let b = bg / p.NKV;',
    'let g = bg % p.NKV;',
    `let r0 = hc * ${s.MQ}u;`,
    ...rows.map((r) => `let h${r} = g * p.G + min(r0 + ${r}u, p.G - 1u);`),
    'let qb = p.qo + b * p.qrs;',
    'let ob = p.oo + b * p.ors;',
    `let kb = bg * p.Tmax * ${HS}u;`,
    'let vb = kb;',
    `let krs = ${HS}u;`,
    `let vrs = ${HS}u;`,
    ...rows.map((r) => `let qa${r} = qb + h${r} * ${HS}u;`),
    'let last = min(pos[b], p.Tmax - 1u);',
    'let kend = last + 1u;',
  ];
}

/** Whether key `j` is visible to row r. */
function visible(s: ForwardSpec, r: number, j: string): string {
  return s.mode === 'causal' ? `${j} <= i0 + ${r}u` : `${j} < kend`;
}

function epilogue(s: ForwardSpec, t: Team): string[] {
  const lines: string[] = [];
  for (const r of range(s.MQ)) {
    const tot = `tot${r}`;
    lines.push(`let ${tot} = ${t.sum(`l${r}`)};`);
    const guard = s.mode === 'causal' ? `i0 + ${r}u < p.T` : `r0 + ${r}u < p.G`;
    const oa = s.mode === 'causal' ? `ob + ir${r} * p.ors` : `ob + h${r} * ${s.HS}u`;
    lines.push(`if (${guard}) {`);
    lines.push(`  let inv = 1.0 / ${tot};`);
    lines.push(`  let oa = ${oa};`);
    t.row(`o${r}`).forEach((o, m) => lines.push(`  out[oa + ${t.at(m)}] = ${o} * inv;`));
    if (s.mode === 'causal') {
      const write = `lse[bh * p.T + ir${r}] = (m${r} + log2(${tot})) * 0.6931471805599453;`;
      lines.push(t.lanes === 4 ? `  if (l == 0u) { ${write} }` : `  ${write}`);
    }
    lines.push('}');
  }
  return lines;
}

/** The scaled q rows, loaded once (Team.cacheRows): only o, m, l are values live across the key loop. */
function cachedQ(s: ForwardSpec, t: Team): CachedRows {
  return t.cacheRows('qs', range(s.MQ).map((r) => ({ name: `q${r}`, load: (m: number) => `q[qa${r} + ${t.at(m)}] * p.scale2` })));
}

/** One block of NK keys from j0, fully unrolled: q rows, scores, online softmax update, and o += p·V. */
function keyBlock(s: ForwardSpec, t: Team, qRows: CachedRows): string[] {
  const rows = range(s.MQ);
  const keys = range(s.NK);
  const slots = range(t.slots(s.NK));
  const L: string[] = [];
  rows.forEach((r) => L.push(...qRows.read(r)));
  for (const c of keys) {
    L.push(`let ka${c} = kb + min(j0 + ${c}u, last) * krs;`);
    const kr = t.row(`k${c}`);
    kr.forEach((kv, m) => L.push(`let ${kv} = k[ka${c} + ${t.at(m)}];`));
    for (const r of rows) L.push(`let x${r}_${c} = ${t.sum(t.dot(t.row(`q${r}`), kr))};`);
  }
  for (const r of rows) {
    for (const v of slots) {
      const xs = range(t.lanes).map((lane) => `x${r}_${v * t.lanes + lane}`);
      L.push(`let s${r}_${v} = select(${NEG}, ${t.pack(xs)}, ${visible(s, r, `j0 + ${t.keyOf(v)}`)});`);
    }
    const blockMax = slots.map((v) => `s${r}_${v}`).reduce((a, b) => `max(${a}, ${b})`);
    L.push(`let mn${r} = max(m${r}, ${t.max(blockMax)});`);
    L.push(`let cr${r} = exp2(m${r} - mn${r});`);
    L.push(`m${r} = mn${r};`);
    for (const v of slots) L.push(`let e${r}_${v} = exp2(s${r}_${v} - mn${r});`);
    L.push(`l${r} = l${r} * cr${r} + ${slots.map((v) => `e${r}_${v}`).join(' + ')};`);
    for (const o of t.row(`o${r}`)) L.push(`${o} *= cr${r};`);
  }
  for (const c of keys) {
    L.push(`let va${c} = vb + min(j0 + ${c}u, last) * vrs;`);
    const vr = t.row(`v${c}`);
    vr.forEach((vv, m) => L.push(`let ${vv} = v[va${c} + ${t.at(m)}];`));
    const { v, lane } = t.slotOf(c);
    for (const r of rows) {
      L.push(`let w${r}_${c} = ${t.bcast(`e${r}_${v}`, lane)};`);
      t.row(`o${r}`).forEach((o, m) => L.push(`${o} += w${r}_${c} * ${vr[m]};`));
    }
  }
  return L;
}

export function forwardKernel(s: ForwardSpec): string {
  const t = new Team(s.lanes, s.HS);
  if (s.NK % s.lanes !== 0) throw new RangeError(`keys per block ${s.NK} is not a multiple of ${s.lanes}`);
  const state: string[] = [];
  for (const r of range(s.MQ)) {
    state.push(...t.row(`o${r}`).map((o) => `var ${o} = 0.0;`));
    state.push(`var m${r} = ${NEG};`, `var l${r} = 0.0;`);
  }
  const qRows = cachedQ(s, t);
  const body = [...prologue(s), ...state, ...qRows.fill, `for (var j0 = 0u; j0 < kend; j0 += ${s.NK}u) {`, indent(2, keyBlock(s, t, qRows)), '}', ...epilogue(s, t)];
  return `${t.header}// attention forward (${s.mode}), generated: lanes ${s.lanes}, HS ${s.HS}, ${s.MQ} rows per team, ${s.NK} keys per block
${PARAMS[s.mode]}
${BINDINGS[s.mode]}

${teamEntry(t, s.WG, body)}`;
}
