// A run config from the page: defaults filled in per mode, and every wrong setting refused with its
// name, value and rule (startRun rejects with these messages before storing anything).
import { describe, expect, it } from 'vitest';
import { DEFAULT_MODEL_DIR, GEN_ROWS, GRPO_DEFAULTS, defaultRunName, resolveConfig, storedMode, wantedGenRows } from '../../src/worker/run-config';
import type { RunConfig } from '../../src/worker/run-types';

const sft: RunConfig = { mode: 'sft', data: { synthetic: 10 }, steps: 5, batch: 2, lr: 1e-3, seq: 128, evalCount: 0, checkpointEvery: 5 };

describe('resolveConfig', () => {
  it('fills in the defaults', () => {
    expect(resolveConfig(sft)).toEqual({
      ...sft, accum: 1, logEvery: 1, keepLast: 2, evalEvery: 0, passK: 0, maxNewTokens: 160, seed: 1, style: 'plan-then-solve', modelDir: DEFAULT_MODEL_DIR,
    });
    const grpo = resolveConfig({ ...sft, mode: 'grpo', grpo: { G: 8, beta: undefined } });
    expect(grpo.grpo).toEqual({ ...GRPO_DEFAULTS, G: 8 });
    expect(resolveConfig({ ...sft, mode: 'offline', offline: { method: 'weighted' } }).offline).toEqual({ method: 'weighted', scores: 'dataset' });
    // fromRun takes that run's model: no default folder.
    expect(resolveConfig({ ...sft, fromRun: 'run-1' }).modelDir).toBeUndefined();
  });

  it('refuses wrong settings, naming them', () => {
    const bad: [Partial<RunConfig>, RegExp][] = [
      [{ mode: 'ppo' as RunConfig['mode'] }, /^mode "ppo" is unknown: use sft, grpo or offline$/],
      [{ steps: -1 }, /^steps must be a positive integer, got -1$/],
      [{ lr: 0 }, /^lr must be a number > 0, got 0$/],
      [{ evalCount: 1.5 }, /^evalCount must be a non-negative integer, got 1.5$/],
      [{ passK: -2 }, /^passK must be a non-negative integer, got -2$/],
      [{ seed: 2 ** 32 }, /^seed must be below 2\^32/],
      [{ style: 'essay' as RunConfig['style'] }, /^style must be one of plan-then-solve, socratic, subq-only, direct, got essay$/],
      [{ modelDir: '/m/', modelId: 'x' }, /^give one model: modelDir and modelId are both set$/],
      [{ fromStep: 3 }, /^fromStep needs fromRun/],
      [{ data: { synthetic: 0 } }, /^data.synthetic must be a positive integer, got 0$/],
      [{ lora: { rank: 0 } }, /^lora.rank must be a positive integer, got 0$/],
      [{ grpo: { G: 4 } }, /^grpo settings are for mode "grpo"; this run's mode is "sft"$/],
      [{ mode: 'grpo', grpo: { beta: 0.1 } }, /^grpo.beta 0.1 needs LoRA/],
      [{ mode: 'grpo', grpo: { temperature: 0 } }, /^grpo.temperature must be a number > 0, got 0$/],
      [{ mode: 'grpo', grpo: { topP: 1.5 } }, /^grpo.topP must be in \(0, 1\], got 1.5$/],
      [{ mode: 'grpo', grpo: { rewardWeights: { correctness: 0, format: 0 } } }, /^grpo.rewardWeights are both 0/],
      [{ mode: 'offline' }, /^mode "offline" needs offline settings/],
      [{ mode: 'offline', offline: { method: 'filtered', scores: 'judge' as 'dataset' } }, /^offline.scores must be dataset or computed, got judge$/],
    ];
    for (const [change, why] of bad) expect(() => resolveConfig({ ...sft, ...change }), JSON.stringify(change)).toThrow(why);
    expect(() => resolveConfig({ ...sft, mode: 'grpo', lora: { rank: 4 }, grpo: { beta: 0.1 } })).not.toThrow();
  });

  it('names runs by mode', () => {
    const at = new Date('2025-03-04T05:06:07Z');
    expect(defaultRunName(resolveConfig(sft), at)).toBe('SFT 2025-03-04 05:06');
    const offline = resolveConfig({ ...sft, mode: 'offline', offline: { method: 'filtered' } });
    expect([storedMode(offline), defaultRunName(offline, at)]).toEqual(['filtered-bc', 'Filtered BC 2025-03-04 05:06']);
  });
});

describe('wantedGenRows', () => {
  it('GRPO would generate its prompts × G rollouts at once, other modes GEN_ROWS, never fewer than the batch', () => {
    expect(wantedGenRows({ mode: 'grpo', batch: 4, grpo: { prompts: 4, G: 8 } })).toBe(32);
    expect(wantedGenRows({ mode: 'grpo', batch: 64, grpo: { prompts: 2, G: 4 } })).toBe(64);
    expect(wantedGenRows({ mode: 'sft', batch: 4 })).toBe(GEN_ROWS);
    expect(wantedGenRows({ mode: 'offline', batch: 32 })).toBe(32);
  });
});
