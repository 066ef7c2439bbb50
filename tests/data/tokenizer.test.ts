import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  BYTE_TOKEN_OFFSET,
  BYTE_VOCAB_SIZE,
  byteLevelTokenizerConfig,
  byteLevelTokenizerJson,
} from '../../src/data/tokenizer/byte-level';
import { loadTokenizer } from '../../src/data/tokenizer/load';

const GSM8K_TEST = new URL('../../../shared/data/gsm8k/test.jsonl', import.meta.url);

const loadByte = () => loadTokenizer(byteLevelTokenizerJson(), byteLevelTokenizerConfig(512));

/** Deterministic random text over all of Unicode except surrogates. */
function randomText(seed: number, length: number): string {
  let s = seed >>> 0;
  const next = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  let out = '';
  for (let i = 0; i < length; i++) {
    const band = next();
    // Mostly ASCII and whitespace, then 2-, 3- and 4-byte UTF-8 characters.
    let cp =
      band < 0.4 ? 0x20 + Math.floor(next() * 95)
      : band < 0.5 ? [0x09, 0x0a, 0x0d, 0x20][Math.floor(next() * 4)]
      : band < 0.65 ? 0x80 + Math.floor(next() * 0x780)
      : band < 0.85 ? 0x800 + Math.floor(next() * 0xf800)
      : 0x10000 + Math.floor(next() * 0x100000);
    if (cp >= 0xd800 && cp <= 0xdfff) cp = 0xe000;
    out += String.fromCodePoint(cp);
  }
  return out;
}

describe('byte-level tokenizer', () => {
  it('has the documented vocabulary: 4 special tokens, then the 256 bytes', async () => {
    const tok = await loadByte();
    expect([tok.padId, tok.bosId, tok.eosId, tok.vocabSize]).toEqual([0, 1, 2, 260]);
    expect(BYTE_VOCAB_SIZE).toBe(260);
    expect(tok.encode('A')).toEqual([BYTE_TOKEN_OFFSET + 0x41]);
    expect(tok.encode('\u0000\u00ff')).toEqual([4, BYTE_TOKEN_OFFSET + 0xc3, BYTE_TOKEN_OFFSET + 0xbf]);
    expect(tok.encode('😀')).toEqual([0xf0, 0x9f, 0x98, 0x80].map((b) => b + BYTE_TOKEN_OFFSET));
  });

  const cases: [string, string][] = [
    ['empty', ''],
    ['ascii', 'The quick brown fox jumps over the lazy dog. 0123456789 !"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~'],
    ['whitespace', '  leading, trailing  \t\ttabs\r\nCRLF\n\n\nblank lines   '],
    ['accents NFC', 'café naïve Ångström Øresund'],
    ['accents NFD kept as written', 'cafe\u0301 nai\u0308ve'],
    ['emoji', '👋🏽 👩‍👩‍👧‍👦 🇫🇷 ❤️ 😀'],
    ['CJK and RTL', '家族 にほんご 한국어 עברית العربية'],
    ['controls', '\u0000\u0001\u001f\u007f\u0085\u2028'],
    ['astral edge', '\u{10000}\u{10ffff}\u{1d11e}'],
    ['looks like a byte token', '<0x41> <0xZZ> <0x>'],
    ['GSM8K annotations', 'She makes 9 * 2 = $<<9*2=18>>18 every day.\n#### 18'],
    ['space before punctuation', 'a , b . c ! d ? e \'s'],
  ];
  it.each(cases)('roundtrips %s exactly, one token per UTF-8 byte', async (_name, text) => {
    const tok = await loadByte();
    const ids = tok.encode(text);
    expect(ids).toHaveLength(new TextEncoder().encode(text).length);
    expect(ids.every((id) => id >= BYTE_TOKEN_OFFSET && id < BYTE_VOCAB_SIZE)).toBe(true);
    expect(tok.decode(ids)).toBe(text);
  });

  it('roundtrips 200 random Unicode strings', async () => {
    const tok = await loadByte();
    for (let seed = 1; seed <= 200; seed++) {
      const text = randomText(seed, 1 + (seed % 97));
      expect(tok.decode(tok.encode(text))).toBe(text);
    }
  });

  it('roundtrips the first 200 GSM8K test problems and solutions', async () => {
    const tok = await loadByte();
    const rows = readFileSync(GSM8K_TEST, 'utf8').split('\n').slice(0, 200);
    expect(rows).toHaveLength(200);
    for (const line of rows) {
      const { question, answer } = JSON.parse(line) as { question: string; answer: string };
      for (const text of [question, answer, `${question}\n${answer}`]) {
        const ids = tok.encode(text, { addBos: true });
        expect(ids[0]).toBe(tok.bosId);
        expect(ids.slice(1).every((id) => id >= BYTE_TOKEN_OFFSET && id < tok.vocabSize)).toBe(true);
        expect(tok.decode(ids, { skipSpecial: true })).toBe(text);
      }
    }
  });

  it('adds BOS only when asked, and keeps or skips special tokens on decode', async () => {
    const tok = await loadByte();
    const ids = [...tok.encode('hi', { addBos: true }), tok.eosId, tok.padId, tok.padId];
    expect(ids).toEqual([1, 4 + 0x68, 4 + 0x69, 2, 0, 0]);
    expect(tok.decode(ids)).toBe('<s>hi</s><pad><pad>');
    expect(tok.decode(ids, { skipSpecial: true })).toBe('hi');
    expect(tok.decode([])).toBe('');
  });

  it('encodes special tokens written in the text as those tokens (Hugging Face default)', async () => {
    const tok = await loadByte();
    expect(tok.encode('a</s>')).toEqual([4 + 0x61, tok.eosId]);
  });

  it('decodes invalid UTF-8 from a sampling model to U+FFFD instead of failing', async () => {
    const tok = await loadByte();
    expect(tok.decode([4 + 0x61, 4 + 0xff, 4 + 0xe5, 4 + 0x62])).toBe('a\ufffd\ufffdb');
  });

  it('rejects ids outside the vocabulary', async () => {
    const tok = await loadByte();
    expect(() => tok.decode([5, 260])).toThrow(RangeError);
    expect(() => tok.decode([-1])).toThrow(/outside the vocabulary/);
    expect(() => tok.decode([1.5])).toThrow(RangeError);
  });

  it('applies its chat template: BOS first, EOS after each assistant answer', async () => {
    const tok = await loadByte();
    const text = tok.applyChatTemplate!(
      [
        { role: 'system', content: 'Plan, then answer.' },
        { role: 'user', content: 'What is 2+3?' },
        { role: 'assistant', content: '2+3=5\n#### 5' },
        { role: 'user', content: 'And 4+4?' },
      ],
      { addGenerationPrompt: true },
    );
    expect(text).toBe(
      '<s><|system|>\nPlan, then answer.\n<|user|>\nWhat is 2+3?\n<|assistant|>\n2+3=5\n#### 5</s>\n' +
        '<|user|>\nAnd 4+4?\n<|assistant|>\n',
    );
    const ids = tok.encode(text);
    expect(ids[0]).toBe(tok.bosId);
    expect(ids.filter((id) => id === tok.eosId)).toHaveLength(1);
    expect(tok.decode(ids)).toBe(text);
  });

  it('loads from JSON text and from Blobs (files dropped by the user)', async () => {
    const json = JSON.stringify(byteLevelTokenizerJson());
    const config = JSON.stringify(byteLevelTokenizerConfig(512));
    for (const tok of [
      await loadTokenizer(json, config),
      await loadTokenizer(new Blob([json]), new Blob([config])),
    ]) {
      expect(tok.decode(tok.encode('héllo 👋'))).toBe('héllo 👋');
      expect(tok.eosId).toBe(2);
    }
  });

  it('says clearly what is wrong with a bad file', async () => {
    await expect(loadTokenizer('{not json')).rejects.toThrow(/tokenizer\.json is not valid JSON/);
    await expect(loadTokenizer({ added_tokens: [] })).rejects.toThrow(/no "model" object/);
    await expect(loadTokenizer(byteLevelTokenizerJson(), '[1]')).rejects.toThrow(/tokenizer_config\.json must hold a JSON object/);
    await expect(
      loadTokenizer(byteLevelTokenizerJson(), { ...byteLevelTokenizerConfig(8), eos_token: '<|eot|>' }),
    ).rejects.toThrow(/eos_token "<\|eot\|>" is not in tokenizer\.json's vocabulary/);
  });
});

/** A hand-written BPE tokenizer with merges, to show the generic path (not only bytes). */
function smallBpeJson(): object {
  const added = (id: number, content: string) => ({
    id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true,
  });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [added(0, '<unk>'), added(1, '<|endoftext|>')],
    normalizer: null,
    pre_tokenizer: { type: 'WhitespaceSplit' },
    post_processor: null,
    decoder: null,
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: '<unk>',
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      vocab: { '<unk>': 0, '<|endoftext|>': 1, a: 2, b: 3, c: 4, ab: 5, bc: 6, abc: 7 },
      // Rank order matters: "a b" before "b c", so "abc" is ab + c -> abc.
      merges: ['a b', 'b c', 'ab c'],
    },
  };
}

describe('generic tokenizer.json loading', () => {
  it('applies BPE merges in rank order and maps unknown characters to <unk>', async () => {
    const tok = await loadTokenizer(smallBpeJson(), { eos_token: '<|endoftext|>', bos_token: null });
    expect(tok.encode('abc ab bc cab')).toEqual([7, 5, 6, 4, 5]);
    expect(tok.encode('abz')).toEqual([5, 0]);
    // No decoder in the file: tokens are joined with spaces, as in `tokenizers`.
    expect(tok.decode([7, 5, 4])).toBe('abc ab c');
    expect([tok.bosId, tok.eosId, tok.padId, tok.vocabSize]).toEqual([null, 1, 1, 8]);
    expect(tok.encode('ab', { addBos: true })).toEqual([5]);
    expect(tok.applyChatTemplate).toBeUndefined();
  });

  it('finds a conventional EOS when there is no tokenizer_config.json', async () => {
    const tok = await loadTokenizer(smallBpeJson());
    expect(tok.eosId).toBe(1);
    expect(tok.padId).toBe(1);
    expect(tok.decode([5, 1], { skipSpecial: true })).toBe('ab');
  });

  it('takes an explicit null in tokenizer_config.json as "no such token"', async () => {
    const json = smallBpeJson() as { added_tokens: object[] };
    json.added_tokens.push({ id: 8, content: '<s>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
    expect((await loadTokenizer(json, { eos_token: '<|endoftext|>' })).bosId).toBe(8);
    expect((await loadTokenizer(json, { eos_token: '<|endoftext|>', bos_token: null })).bosId).toBeNull();
  });

  it('refuses a tokenizer whose end-of-sequence token cannot be told', async () => {
    const json = smallBpeJson() as { added_tokens: { content: string }[] };
    json.added_tokens[1].content = '<|eot|>';
    await expect(loadTokenizer(json)).rejects.toThrow(/Cannot tell which token ends a sequence/);
  });

  it('picks the tokenizer class named by tokenizer_config.json', async () => {
    // LlamaTokenizer with legacy=false prepends "▁" (SentencePiece's space) to the text.
    const json = smallBpeJson() as { model: { vocab: Record<string, number> } };
    json.model.vocab['▁'] = 8;
    const llama = await loadTokenizer(json, { tokenizer_class: 'LlamaTokenizerFast', legacy: false, eos_token: '<|endoftext|>' });
    const plain = await loadTokenizer(json, { tokenizer_class: 'PreTrainedTokenizerFast', eos_token: '<|endoftext|>' });
    expect(llama.encode('abc')).toEqual([8, 7]);
    expect(plain.encode('abc')).toEqual([7]);
  });
});
