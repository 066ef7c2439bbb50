// How runs are named on the page.
import type { RunInfo } from '../worker/api';

export const MODE_LABELS: Record<RunInfo['mode'], string> = {
  sft: 'SFT',
  grpo: 'GRPO',
  'filtered-bc': 'Offline RL (filtered BC)',
  'reward-weighted-bc': 'Offline RL (weighted BC)',
};

export const STATUS_LABELS: Record<RunInfo['status'], string> = {
  created: 'starting',
  running: 'running',
  paused: 'paused',
  completed: 'completed',
  failed: 'failed',
};

/** "“plan SFT” (SFT, 20 steps)". */
export const runLabel = (r: RunInfo): string => `“${r.name}” (${MODE_LABELS[r.mode] ?? r.mode}, ${r.config.steps.toLocaleString('en-US')} steps)`;
