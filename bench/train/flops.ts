// Model FLOPs per trained token, nanoGPT / PaLM style (the work the model needs, not what the
// kernels happen to do):
//   full fine-tuning   6·P_mm + 12·L·T·C
//   LoRA               4·P_mm + 6·P_lora + 12·L·T·C
// P_mm: parameters that are multiplied per token = all parameters minus the embedding tables (wte,
// wpe: lookups), plus V·C for the LM head when it is tied to wte (the matmul still runs). Norm
// weights and biases are included (a rounding error). 6 = 2 (forward) + 2 (dx) + 2 (dW); with LoRA
// the frozen weights need no dW, hence 4, and the adapters cost 6 each. 12·L·T·C is attention's
// QKᵀ and PV, forward and backward, over the full T×T square (the causal mask is not halved, as in
// nanoGPT's estimate_mfu), with T the sequence length.
import type { ParamLayout } from '../../src/model/param-layout';

export interface FlopCount {
  totalParams: number;
  /** Parameters outside the embedding tables. */
  nonEmbedding: number;
  /** Parameters multiplied per token (nonEmbedding + the tied LM head). */
  matmulParams: number;
  loraParams: number;
  /** Model FLOPs per token for one forward + backward. */
  perToken: number;
}

export function flopsPerToken(layout: ParamLayout, T: number): FlopCount {
  const { C, L, V, tiedEmbeddings } = layout.config;
  const size = (name: string): number => layout.byName.get(name)?.size ?? 0;
  const nonEmbedding = layout.numParams - size('wte') - size('wpe');
  const matmulParams = nonEmbedding + (tiedEmbeddings ? V * C : 0);
  const loraParams = layout.lora?.numParams ?? 0;
  const attention = 12 * L * T * C;
  const perToken = (layout.lora ? 4 * matmulParams + 6 * loraParams : 6 * matmulParams) + attention;
  return { totalParams: layout.numParams, nonEmbedding, matmulParams, loraParams, perToken };
}
