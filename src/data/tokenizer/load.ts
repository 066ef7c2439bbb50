// Loads a Hugging Face tokenizer (`tokenizer.json` + optional `tokenizer_config.json`)
// from files already in hand — no network, no hub — with the tokenizer classes of
// @xenova/transformers, and wraps it in Plantune's small `Tokenizer` interface.
// Works in the page, in a Web Worker and in Node (no window, no DOM).
import { AutoTokenizer, PreTrainedTokenizer } from '@xenova/transformers/src/tokenizers.js';

export interface ChatMessage {
  role: string;
  content: string;
}

export interface EncodeOptions {
  /** Prepend the BOS token, when the tokenizer has one (default false). */
  addBos?: boolean;
}

export interface DecodeOptions {
  /** Drop special tokens (BOS, EOS, pad, ...) from the text (default false). */
  skipSpecial?: boolean;
}

export interface ChatTemplateOptions {
  /** End with the header of an assistant turn, ready for generation (default false). */
  addGenerationPrompt?: boolean;
}

export interface Tokenizer {
  /**
   * Token ids of `text`. Special tokens written literally in the text (e.g. "</s>") are
   * encoded as those special tokens, as Hugging Face tokenizers do by default.
   */
  encode(text: string, options?: EncodeOptions): number[];
  decode(ids: readonly number[], options?: DecodeOptions): string;
  /** null for tokenizers without a BOS token (e.g. Qwen2). */
  readonly bosId: number | null;
  readonly eosId: number;
  /** The pad token, or EOS when the tokenizer names none. */
  readonly padId: number;
  readonly vocabSize: number;
  /** Present when the tokenizer config has a `chat_template`; returns the rendered text. */
  applyChatTemplate?(messages: readonly ChatMessage[], options?: ChatTemplateOptions): string;
}

/** A JSON file as text, as a Blob / File (e.g. dropped by the user), or already parsed. */
export type JsonFile = string | Blob | object;

// Used only when tokenizer_config.json does not mention the token at all.
const CONVENTIONAL_BOS = ['<s>', '<|begin_of_text|>', '<bos>', '<|startoftext|>'];
const CONVENTIONAL_EOS = ['</s>', '<|endoftext|>', '<|end_of_text|>', '<eos>', '<|im_end|>'];

export async function loadTokenizer(tokenizerJson: JsonFile, tokenizerConfig?: JsonFile): Promise<Tokenizer> {
  const json = await readJson(tokenizerJson, 'tokenizer.json');
  const config = tokenizerConfig === undefined ? {} : await readJson(tokenizerConfig, 'tokenizer_config.json');
  if (!isRecord(json.model)) throw new Error('tokenizer.json has no "model" object: is this a Hugging Face tokenizer.json?');
  if (!Array.isArray(json.added_tokens)) throw new Error('tokenizer.json has no "added_tokens" list');

  // Same class choice as AutoTokenizer.from_pretrained, minus the download. Decoding
  // gives back the exact text unless the config explicitly asks for clean-up.
  const className = typeof config.tokenizer_class === 'string' ? config.tokenizer_class.replace(/Fast$/, '') : '';
  const TokenizerClass = AutoTokenizer.TOKENIZER_CLASS_MAPPING[className] ?? PreTrainedTokenizer;
  const inner = new TokenizerClass(json, { clean_up_tokenization_spaces: false, ...config });
  return wrap(inner, config);
}

function wrap(inner: PreTrainedTokenizer, config: Record<string, unknown>): Tokenizer {
  const ids = inner.model.tokens_to_ids;
  const specialNames = new Set(inner.added_tokens.filter((t) => t.special).map((t) => t.content));
  const lookup = (key: string, conventional: string[]): number | null => {
    if (!(key in config)) {
      const found = conventional.find((name) => specialNames.has(name));
      return found === undefined ? null : (ids.get(found) ?? null);
    }
    const named = tokenName(config[key]);
    if (named === null) return null; // e.g. "bos_token": null
    const id = ids.get(named);
    if (id === undefined) throw new Error(`tokenizer_config.json: ${key} "${named}" is not in tokenizer.json's vocabulary`);
    return id;
  };

  const bosId = lookup('bos_token', CONVENTIONAL_BOS);
  const eosId = lookup('eos_token', CONVENTIONAL_EOS);
  if (eosId === null) {
    throw new Error(
      'Cannot tell which token ends a sequence: tokenizer_config.json has no eos_token and tokenizer.json has ' +
        `none of ${CONVENTIONAL_EOS.join(' ')}. Provide the model's tokenizer_config.json.`,
    );
  }
  const padId = lookup('pad_token', []) ?? eosId;
  const vocabSize = inner.model.vocab.length;

  const tokenizer: Tokenizer = {
    bosId,
    eosId,
    padId,
    vocabSize,
    encode(text, { addBos = false } = {}) {
      const body = inner.encode(text, null, { add_special_tokens: false });
      return addBos && bosId !== null ? [bosId, ...body] : body;
    },
    decode(tokenIds, { skipSpecial = false } = {}) {
      for (const id of tokenIds) {
        if (!Number.isInteger(id) || id < 0 || id >= vocabSize) {
          throw new RangeError(`token id ${id} is outside the vocabulary [0, ${vocabSize})`);
        }
      }
      return tokenIds.length === 0 ? '' : inner.decode([...tokenIds], { skip_special_tokens: skipSpecial });
    },
  };
  if (config.chat_template !== undefined && config.chat_template !== null) {
    tokenizer.applyChatTemplate = (messages, { addGenerationPrompt = false } = {}) =>
      inner.apply_chat_template(
        messages.map(({ role, content }) => ({ role, content })),
        { tokenize: false, add_generation_prompt: addGenerationPrompt },
      );
  }
  return tokenizer;
}

async function readJson(file: JsonFile, what: string): Promise<Record<string, unknown>> {
  let value: unknown = file;
  if (typeof file === 'string' || file instanceof Blob) {
    const text = typeof file === 'string' ? file : await file.text();
    try {
      value = JSON.parse(text);
    } catch (e) {
      throw new Error(`${what} is not valid JSON: ${(e as Error).message}`);
    }
  }
  if (!isRecord(value)) throw new Error(`${what} must hold a JSON object`);
  return value;
}

/** Token fields of tokenizer_config.json are a string or an AddedToken object `{content}`. */
function tokenName(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (isRecord(value) && typeof value.content === 'string') return value.content;
  return null;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
