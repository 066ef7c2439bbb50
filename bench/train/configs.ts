// The reference configurations of the training benchmark (issue 4, Speed): the shapes, batch and
// how many timed samples each gets.
import { type ModelConfig, tinyGpt2, tinyLlama } from '../../src/model/config';
import type { LoraSpec } from '../../src/model/param-layout';

export interface BenchConfig {
  /** Short key, selectable on the command line. */
  key: string;
  name: string;
  cfg: ModelConfig;
  B: number;
  T: number;
  lora?: LoraSpec;
  /** Timed optimizer steps after one warm-up step. */
  samples: number;
  /** When the first timed step takes longer than this, the config is re-run with B = 1. */
  fallbackAfterMs?: number;
  /** Also time the forward alone and print the phase breakdown. */
  phases?: boolean;
}

/** Llama's MLP width: 4·C·2/3 rounded up to a multiple of 16 (688 for C = 256). */
const llamaF = (C: number): number => Math.ceil((4 * C * 2) / 3 / 16) * 16;

const tinyDefault = (): ModelConfig => tinyLlama({ V: 260, C: 128, L: 4, NH: 4, NKV: 2, F: 384, maxT: 256 });

export const BENCH_CONFIGS: BenchConfig[] = [
  {
    key: 'llama',
    name: 'llama 6L d256 8h/4kv F688 V512',
    cfg: tinyLlama({ V: 512, C: 256, L: 6, NH: 8, NKV: 4, F: llamaF(256), maxT: 256 }),
    B: 4,
    T: 256,
    samples: 3,
    fallbackAfterMs: 60_000,
    phases: true,
  },
  {
    key: 'gpt2',
    name: 'gpt2-small 12L d768 12h F3072 V50257',
    cfg: tinyGpt2({ V: 50257, C: 768, L: 12, NH: 12, F: 3072, maxT: 1024 }),
    B: 1,
    T: 128,
    samples: 2,
  },
  { key: 'tiny', name: 'tiny default 4L d128 4h/2kv F384 V260', cfg: tinyDefault(), B: 8, T: 256, samples: 3 },
  {
    key: 'tiny-lora',
    name: 'tiny default + LoRA r8 (q,v)',
    cfg: tinyDefault(),
    B: 8,
    T: 256,
    lora: { rank: 8, alpha: 16, targets: ['q_proj', 'v_proj'] },
    samples: 3,
  },
];
