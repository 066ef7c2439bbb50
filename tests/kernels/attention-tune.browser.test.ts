// The attention variant trial: it times every available variant, the kernels then run the winner for
// that class (forward, backward and decode alike), a forced variant still wins, and the choice is
// remembered across a reload (IndexedDB).
import { describe, expect, it } from 'vitest';
import { attentionClass, attentionVariant, availableAttentionVariants } from '../../src/kernels/attention';
import { tuneAttention } from '../../src/kernels/attention-tune';
import { forgetRememberedVariants, loadRememberedVariants, rememberedVariant, setVariantOverride } from '../../src/kernels/variant-cache';
import { testEngine } from '../helpers/gpu';

const e = await testEngine();

describe('tuneAttention', () => {
  it('times each variant once per class, remembers the fastest, and the kernels pick it', async () => {
    forgetRememberedVariants();
    // Head size 12 and T in (32, 64]: a class no other test tunes.
    const train = { kind: 'train' as const, B: 2, T: 45, NH: 4, NKV: 2, HS: 12 };
    const decode = { ...train, kind: 'decode' as const, T: 40 };
    const trials: [string, string[]][] = [];
    const chosen = await tuneAttention(e, [train, { ...train, T: 50 }, decode], {
      samples: 1,
      onTrial: (cls, results) => trials.push([cls, results.map((r) => r.variant)]),
    });
    const trainCls = attentionClass('train', 12, 45);
    const decodeCls = attentionClass('decode', 12, 40);
    expect(trainCls).toBe(attentionClass('train', 12, 50)); // one class: one trial
    expect([...chosen.keys()]).toEqual([trainCls, decodeCls]);
    if (trials.length) {
      // A fresh browser profile runs both trials, each over every variant this adapter has.
      expect(trials.map(([c]) => c)).toEqual([trainCls, decodeCls]);
      for (const [, variants] of trials) expect([...variants].sort()).toEqual([...availableAttentionVariants(e)].sort());
    }
    for (const [cls, v] of chosen) {
      expect(availableAttentionVariants(e)).toContain(v);
      expect(rememberedVariant(e, 'attention', cls)).toBe(v);
      expect(attentionVariant(e, undefined, 'test', cls)).toBe(v);
    }
    const other = availableAttentionVariants(e).find((v) => v !== chosen.get(trainCls))!;
    expect(attentionVariant(e, { variant: other }, 'test', trainCls)).toBe(other);
    setVariantOverride('attention', other);
    expect(attentionVariant(e, undefined, 'test', trainCls)).toBe(other);
    setVariantOverride('attention', null);

    forgetRememberedVariants(); // memory gone: IndexedDB still has them
    expect(rememberedVariant(e, 'attention', trainCls)).toBeUndefined();
    await loadRememberedVariants(e);
    expect(rememberedVariant(e, 'attention', trainCls)).toBe(chosen.get(trainCls));
    expect(rememberedVariant(e, 'attention', decodeCls)).toBe(chosen.get(decodeCls));
  });
});
