// The tokenizer a run generates with. A model's vocabulary is often padded past its tokenizer's (HF
// configs round vocab_size up; a random model may be given any size), so sampling can draw an id the
// tokenizer does not have. Such ids decode as U+FFFD, visible in samples and never a correct answer,
// instead of failing the run.
import type { Tokenizer } from '../data/tokenizer/load';

const REPLACEMENT = '\uFFFD';

export function generationTokenizer(tokenizer: Tokenizer, modelVocab: number): Tokenizer {
  if (modelVocab <= tokenizer.vocabSize) return tokenizer;
  const known = (id: number) => id >= 0 && id < tokenizer.vocabSize;
  return Object.assign(Object.create(tokenizer) as Tokenizer, {
    decode(ids: readonly number[], opts?: Parameters<Tokenizer['decode']>[1]): string {
      if (ids.every(known)) return tokenizer.decode(ids, opts);
      // Runs of known ids decode together (multi-byte characters stay whole); each unknown id is one U+FFFD.
      let text = '';
      let run: number[] = [];
      for (const id of ids) {
        if (known(id)) run.push(id);
        else {
          text += tokenizer.decode(run, opts) + REPLACEMENT;
          run = [];
        }
      }
      return text + tokenizer.decode(run, opts);
    },
  });
}
