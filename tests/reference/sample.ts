// float64 reference sampler: the same counter-based RNG as shaders/sample.wgsl (pcg4d of
// (seed, step, row, v)), temperature, top-k, top-p and a Gumbel-max draw over the kept tokens.

/** pcg4d (Jarzynski & Olano 2020), x component, in u32 arithmetic. */
export function pcg4dX(a: number, b: number, c: number, d: number): number {
  let x = (Math.imul(a, 1664525) + 1013904223) >>> 0;
  let y = (Math.imul(b, 1664525) + 1013904223) >>> 0;
  let z = (Math.imul(c, 1664525) + 1013904223) >>> 0;
  let w = (Math.imul(d, 1664525) + 1013904223) >>> 0;
  for (let round = 0; round < 2; round++) {
    x = (x + Math.imul(y, w)) >>> 0;
    y = (y + Math.imul(z, x)) >>> 0;
    z = (z + Math.imul(x, y)) >>> 0;
    w = (w + Math.imul(y, z)) >>> 0;
    if (round === 0) {
      x = (x ^ (x >>> 16)) >>> 0;
      y = (y ^ (y >>> 16)) >>> 0;
      z = (z ^ (z >>> 16)) >>> 0;
      w = (w ^ (w >>> 16)) >>> 0;
    }
  }
  return x;
}

export const uniform01 = (seed: number, step: number, row: number, v: number): number => ((pcg4dX(seed, step, row, v) >>> 8) + 0.5) / 16777216;

export interface SampleConfig {
  temperature: number;
  topK: number;
  topP: number;
}

/** Indices of the tokens kept by top-k then top-p, and the distribution over them (renormalised). */
export function keptDistribution(row: ArrayLike<number>, c: SampleConfig): { kept: number[]; probs: Map<number, number> } {
  const V = row.length;
  const z = Array.from(row, (x) => x / c.temperature);
  const order = Array.from({ length: V }, (_, v) => v).sort((a, b) => z[b] - z[a]);
  let kept = order;
  if (c.topK > 0 && c.topK < V) kept = order.filter((v) => z[v] >= z[order[c.topK - 1]]); // ties at the k-th value kept
  const m = z[order[0]];
  const w = kept.map((v) => Math.exp(z[v] - m));
  const total = w.reduce((a, b) => a + b, 0);
  if (c.topP < 1) {
    let cum = 0;
    let last = kept.length - 1;
    for (let i = 0; i < kept.length; i++) {
      cum += w[i];
      if (cum >= c.topP * total) {
        last = i;
        break;
      }
    }
    const cut = z[kept[last]];
    kept = kept.filter((v) => z[v] >= cut);
  }
  const keptMass = kept.reduce((s, v) => s + Math.exp(z[v] - m), 0);
  return { kept, probs: new Map(kept.map((v) => [v, Math.exp(z[v] - m) / keptMass])) };
}

/** The token the GPU should draw for this row, its log-prob, and the gap to the runner-up score. */
export function sampleRef(row: ArrayLike<number>, c: SampleConfig, seed: number, step: number, rowIndex: number): { token: number; logprob: number; margin: number } {
  const greedy = c.temperature <= 0;
  const t = greedy ? 1 : c.temperature;
  const z = Array.from(row, (x) => x / t);
  const m = Math.max(...z);
  const logZ = m + Math.log(z.reduce((s, x) => s + Math.exp(x - m), 0));
  const kept = greedy ? z.map((_, v) => v) : keptDistribution(row, c).kept;
  const scores = kept.map((v) => ({ v, s: greedy ? z[v] : z[v] - Math.log(-Math.log(uniform01(seed, step, rowIndex, v))) }));
  scores.sort((a, b) => b.s - a.s || a.v - b.v);
  return { token: scores[0].v, logprob: z[scores[0].v] - logZ, margin: scores.length > 1 ? scores[0].s - scores[1].s : Infinity };
}
