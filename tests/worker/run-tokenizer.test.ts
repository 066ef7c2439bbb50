// Ids past the tokenizer's vocabulary (a padded model vocabulary) decode as U+FFFD; known ids as before.
import { describe, expect, it } from 'vitest';
import { byteLevelTokenizerJson } from '../../src/data/tokenizer/byte-level';
import { loadTokenizer } from '../../src/data/tokenizer/load';
import { generationTokenizer } from '../../src/worker/run-tokenizer';

describe('generationTokenizer', () => {
  it('decodes ids the tokenizer lacks as U+FFFD, keeping multi-byte characters whole', async () => {
    const tokenizer = await loadTokenizer(byteLevelTokenizerJson());
    const t = generationTokenizer(tokenizer, 320);
    const ids = tokenizer.encode('é = 7');
    expect(t.decode(ids)).toBe('é = 7');
    expect(t.decode([300, ...ids, 319, 280])).toBe('\uFFFDé = 7\uFFFD\uFFFD');
    expect(t.decode([...ids.slice(0, 2), tokenizer.eosId, 260], { skipSpecial: true })).toBe('é\uFFFD');
    expect(() => tokenizer.decode([300])).toThrow(/outside the vocabulary/);
    expect(t.encode('ab')).toEqual(tokenizer.encode('ab'));
    expect([t.vocabSize, t.eosId, t.padId]).toEqual([tokenizer.vocabSize, tokenizer.eosId, tokenizer.padId]);
    expect(generationTokenizer(tokenizer, 260)).toBe(tokenizer);
  });
});
