// Learning-rate schedules: linear warmup, then cosine or linear decay to minLr at totalSteps.

export interface ScheduleConfig {
  lr: number;
  warmupSteps: number;
  totalSteps: number;
  decay: 'cosine' | 'linear' | 'constant';
  /** Final learning rate as a fraction of lr (default 0.1). */
  minLrRatio?: number;
}

/** Learning rate for optimizer step `step` (0-based). */
export function learningRate(cfg: ScheduleConfig, step: number): number {
  const minLr = cfg.lr * (cfg.minLrRatio ?? 0.1);
  if (step < cfg.warmupSteps) return (cfg.lr * (step + 1)) / cfg.warmupSteps;
  if (cfg.decay === 'constant') return cfg.lr;
  const span = Math.max(1, cfg.totalSteps - cfg.warmupSteps);
  const progress = Math.min(1, (step - cfg.warmupSteps) / span);
  const shape = cfg.decay === 'cosine' ? 0.5 * (1 + Math.cos(Math.PI * progress)) : 1 - progress;
  return minLr + (cfg.lr - minLr) * shape;
}
