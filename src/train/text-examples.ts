// Plain text as training examples (language-model pretraining): loss on every token after BOS.
import type { Tokenizer } from '../data/tokenizer/load';
import type { TokenizedExample } from './batches';

export function textExamples(texts: readonly string[], tokenizer: Pick<Tokenizer, 'encode' | 'eosId' | 'bosId'>, idPrefix: string): TokenizedExample[] {
  return texts.map((text, i) => {
    const body = tokenizer.encode(text);
    const ids = Int32Array.from([...(tokenizer.bosId === null ? [] : [tokenizer.bosId]), ...body, tokenizer.eosId]);
    const mask = new Uint8Array(ids.length).fill(1);
    mask[0] = 0;
    return { id: `${idPrefix}-${i}`, ids, mask, promptLength: 0, answer: { text: '' }, steps: 0 };
  });
}
