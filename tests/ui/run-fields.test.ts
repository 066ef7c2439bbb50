// The run form's number rules and the learning-rate defaults, and how a parameter count is written.
import { describe, expect, it } from 'vitest';
import { paramCount } from '../../src/ui/model-info';
import { NUMBER_FIELDS, checkNumber, defaultLr } from '../../src/ui/run-fields';

describe('checkNumber', () => {
  const steps = NUMBER_FIELDS.steps;
  const lr = NUMBER_FIELDS.lr;

  it('accepts whole numbers inside the range, bounds included', () => {
    for (const v of ['1', '20', '1000000', ' 7 ']) expect(checkNumber(steps, v), v).toBeNull();
  });

  it('refuses empty, non-numeric, fractional and out-of-range values with one message that states the rule', () => {
    for (const v of ['', 'abc', '2.5', '0', '-3', '1000001', 'Infinity', '1e9']) {
      expect(checkNumber(steps, v), v).toBe('Steps must be a whole number from 1 to 1,000,000.');
    }
  });

  it('keeps an exclusive minimum exclusive, and takes a tighter maximum (the model context)', () => {
    expect(checkNumber(lr, '0')).toBe('Learning rate must be a number above 0 and at most 1.');
    expect(checkNumber(lr, '0.00005')).toBeNull();
    expect(checkNumber(lr, '1.5')).not.toBeNull();
    expect(checkNumber(NUMBER_FIELDS.seq, '641', 640)).toBe('Sequence length must be a whole number from 8 to 640.');
    expect(checkNumber(NUMBER_FIELDS.seq, '640', 640)).toBeNull();
  });

  it('has defaults that pass their own rules', () => {
    for (const spec of Object.values(NUMBER_FIELDS)) expect(checkNumber(spec, String(spec.value)), spec.key).toBeNull();
  });
});

describe('defaultLr', () => {
  it('is gentler for GRPO than for SFT and offline RL, and higher for LoRA adapters than for full fine-tuning', () => {
    expect(defaultLr('sft', false)).toBe(1e-3);
    expect(defaultLr('offline', false)).toBe(1e-3);
    expect(defaultLr('sft', true)).toBe(2e-3);
    expect(defaultLr('grpo', false)).toBe(5e-5);
    expect(defaultLr('grpo', true)).toBe(1e-4);
  });
});

describe('paramCount', () => {
  it('writes thousands, millions and billions with three significant digits', () => {
    expect(paramCount(999)).toBe('999');
    expect(paramCount(6_770)).toBe('6.77 k');
    expect(paramCount(1_250_432)).toBe('1.25 M');
    expect(paramCount(124_439_808)).toBe('124 M');
    expect(paramCount(13_500_000)).toBe('13.5 M');
    expect(paramCount(7_241_732_096)).toBe('7.24 B');
  });
});
