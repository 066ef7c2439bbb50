// The byte-level tokenizer of Plantune's tiny default model, written as Hugging Face
// `tokenizer.json` + `tokenizer_config.json` objects so that the same files load in
// @xenova/transformers (here), in Python `tokenizers` / `transformers`, and in TRL.
//
// Vocabulary (V = 260):
//   0 <pad>   1 <s> (BOS)   2 </s> (EOS)   3 <unk>
//   4 + b     the byte b (0..255), spelled `<0xNN>` as in Llama / SentencePiece byte_fallback.
//
// Design: a BPE model with no merges whose only ordinary tokens are the 256 byte
// tokens, with `byte_fallback: true`. Every character (code point) of the input is
// absent from the vocabulary, so the model falls back to the character's UTF-8 bytes;
// the `ByteFallback` decoder turns runs of byte tokens back into UTF-8 text. Hence any
// well-formed Unicode string (emoji, accents, newlines, runs of spaces) roundtrips
// exactly. No normalizer, no prefix space, no ByteLevel character remapping.

export interface HfAddedToken {
  id: number;
  content: string;
  single_word: boolean;
  lstrip: boolean;
  rstrip: boolean;
  normalized: boolean;
  special: boolean;
}

/** The subset of the `tokenizer.json` format this file produces. */
export interface HfTokenizerJson {
  version: string;
  truncation: null;
  padding: null;
  added_tokens: HfAddedToken[];
  normalizer: null;
  pre_tokenizer: Record<string, unknown>;
  post_processor: Record<string, unknown>;
  decoder: Record<string, unknown>;
  model: {
    type: 'BPE';
    dropout: null;
    unk_token: string;
    continuing_subword_prefix: null;
    end_of_word_suffix: null;
    fuse_unk: boolean;
    byte_fallback: boolean;
    ignore_merges: boolean;
    vocab: Record<string, number>;
    merges: string[];
  };
}

export interface HfTokenizerConfig {
  tokenizer_class: string;
  bos_token: string;
  eos_token: string;
  pad_token: string;
  unk_token: string;
  model_max_length: number;
  clean_up_tokenization_spaces: boolean;
  chat_template: string;
}

export const PAD_TOKEN = '<pad>';
export const BOS_TOKEN = '<s>';
export const EOS_TOKEN = '</s>';
export const UNK_TOKEN = '<unk>';
const SPECIAL_TOKENS = [PAD_TOKEN, BOS_TOKEN, EOS_TOKEN, UNK_TOKEN];

/** Id of the token for byte 0; byte b has id BYTE_TOKEN_OFFSET + b. */
export const BYTE_TOKEN_OFFSET = SPECIAL_TOKENS.length;
export const BYTE_VOCAB_SIZE = BYTE_TOKEN_OFFSET + 256;

/** `<0xNN>`: the spelling of byte tokens that the ByteFallback decoder recognises. */
export function byteTokenName(byte: number): string {
  return `<0x${byte.toString(16).toUpperCase().padStart(2, '0')}>`;
}

/**
 * Role-tagged turns; BOS first, EOS right after each assistant answer (where generation
 * must stop). The tags are plain text, i.e. ordinary bytes for this tokenizer.
 */
export const BYTE_CHAT_TEMPLATE =
  "{{ bos_token }}{% for message in messages %}{{ '<|' + message['role'] + '|>\\n' + message['content'] }}" +
  "{% if message['role'] == 'assistant' %}{{ eos_token }}{% endif %}{{ '\\n' }}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|assistant|>\\n' }}{% endif %}";

export function byteLevelTokenizerJson(): HfTokenizerJson {
  const vocab: Record<string, number> = {};
  SPECIAL_TOKENS.forEach((token, id) => (vocab[token] = id));
  for (let b = 0; b < 256; b++) vocab[byteTokenName(b)] = BYTE_TOKEN_OFFSET + b;

  const bos = { SpecialToken: { id: BOS_TOKEN, type_id: 0 } };
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: SPECIAL_TOKENS.map((content, id) => ({
      id,
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: null,
    // Splitting around whitespace does not change any id (there are no merges); it keeps
    // the BPE word cache (unbounded in transformers.js) keyed by words, not whole texts.
    pre_tokenizer: { type: 'Split', pattern: { Regex: '\\s+' }, behavior: 'Isolated', invert: false },
    // Used by `transformers` when add_special_tokens=True: BOS first, as Llama does.
    post_processor: {
      type: 'TemplateProcessing',
      single: [bos, { Sequence: { id: 'A', type_id: 0 } }],
      pair: [bos, { Sequence: { id: 'A', type_id: 0 } }, bos, { Sequence: { id: 'B', type_id: 1 } }],
      special_tokens: { [BOS_TOKEN]: { id: BOS_TOKEN, ids: [SPECIAL_TOKENS.indexOf(BOS_TOKEN)], tokens: [BOS_TOKEN] } },
    },
    decoder: { type: 'Sequence', decoders: [{ type: 'ByteFallback' }, { type: 'Fuse' }] },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: UNK_TOKEN,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: true,
      ignore_merges: false,
      vocab,
      merges: [],
    },
  };
}

/** `modelMaxLength` is the context length (block size) of the model shipped with it. */
export function byteLevelTokenizerConfig(modelMaxLength: number): HfTokenizerConfig {
  return {
    tokenizer_class: 'PreTrainedTokenizerFast',
    bos_token: BOS_TOKEN,
    eos_token: EOS_TOKEN,
    pad_token: PAD_TOKEN,
    unk_token: UNK_TOKEN,
    model_max_length: modelMaxLength,
    // Decoding must give back the exact text (no " ." -> "." clean-up).
    clean_up_tokenization_spaces: false,
    chat_template: BYTE_CHAT_TEMPLATE,
  };
}
