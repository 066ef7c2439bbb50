// Tiny random models shaped like the hub models the README plan-tunes, written as Hugging Face
// folders: the real config.json fields of HuggingFaceTB/SmolLM2-135M and Qwen/Qwen2.5-0.5B with the
// sizes shrunk, bf16 weights (as published), and a real byte-level BPE tokenizer.json (GPT-2's byte
// alphabet, a few merges, the models' special tokens, and each model's pre-tokenizer).
import { parseHfConfig } from '../../src/model/config';
import { initParams } from '../../src/model/init';
import { hfTensors, intoHfTensor, paramLayout, view } from '../../src/model/param-layout';
import { type TensorToWrite, writeSafetensors } from '../../src/io/safetensors';

/** GPT-2's reversible byte -> printable character table (bytes_to_unicode). */
function byteAlphabet(): string[] {
  const printable = (b: number) => (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
  const table: string[] = [];
  let extra = 0;
  for (let b = 0; b < 256; b++) table[b] = String.fromCharCode(printable(b) ? b : 256 + extra++);
  return table;
}

// Frequent pairs of English and arithmetic text, in merge-rank order ('Ġ' is the space byte).
const MERGES = ['Ġ t', 'h e', 'Ġ a', 'i n', 'Ġt he', 'r e', 'o n', 'e r', 'Ġ s', 'a t', 'e n', 'Ġ w', 'Ġ h', 'o u', 'Ġ o', 'Ġ c', 'i s', 'e s', 'Ġ b', 'a n', 'o r', 'Ġ m', 'Ġ f', 'Ġ p', 'Ġ d', 'Ġ =', 'Ġ *', 'Ġ +', 'Ġ -', 'Ġ H', 'Ġh ow', 'o w', 'Ġ 1', 'Ġ 2'];

type Flavour = 'smollm2' | 'qwen2';

const SPECIALS = ['<|endoftext|>', '<|im_start|>', '<|im_end|>'];

/** tokenizer.json of a byte-level BPE: SmolLM2 puts its special tokens first, Qwen2 after the vocabulary. */
export function tinyBpeTokenizer(flavour: Flavour): { json: object; size: number } {
  const bytes = byteAlphabet();
  const vocab: Record<string, number> = {};
  const add = (token: string) => (vocab[token] ??= Object.keys(vocab).length);
  if (flavour === 'smollm2') SPECIALS.forEach(add);
  bytes.forEach(add);
  for (const m of MERGES) add(m.replace(' ', ''));
  if (flavour === 'qwen2') SPECIALS.forEach(add);
  const added = SPECIALS.map((content) => ({ id: vocab[content], content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }));
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: flavour === 'smollm2' };
  const pre = flavour === 'smollm2'
    ? byteLevel
    : {
      type: 'Sequence',
      pretokenizers: [
        {
          type: 'Split',
          pattern: { Regex: "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+" },
          behavior: 'Isolated',
          invert: false,
        },
        byteLevel,
      ],
    };
  const json = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: flavour === 'qwen2' ? { type: 'NFC' } : null,
    pre_tokenizer: pre,
    post_processor: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false },
    decoder: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false },
    model: {
      type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: flavour === 'qwen2' ? '' : null, end_of_word_suffix: flavour === 'qwen2' ? '' : null,
      fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab, merges: MERGES,
    },
  };
  return { json, size: Object.keys(vocab).length };
}

/**
 * config.json of HuggingFaceTB/SmolLM2-135M (Llama: GQA 9/3, tied embeddings, rope_theta 1e5, bos = eos =
 * <|endoftext|> = 0) with hidden 576 -> 96, 30 -> 2 layers, heads 9/3 -> 6/2 (head size 16), MLP 1536 -> 256.
 */
export function smollm2Config(vocab: number): Record<string, unknown> {
  return {
    architectures: ['LlamaForCausalLM'], attention_bias: false, attention_dropout: 0.0, bos_token_id: 0, eos_token_id: 0, hidden_act: 'silu',
    hidden_size: 96, initializer_range: 0.041666666666666664, intermediate_size: 256, is_llama_config: true, max_position_embeddings: 8192,
    mlp_bias: false, model_type: 'llama', num_attention_heads: 6, num_hidden_layers: 2, num_key_value_heads: 2, pretraining_tp: 1,
    rms_norm_eps: 1e-5, rope_interleaved: false, rope_scaling: null, rope_theta: 100000, tie_word_embeddings: true, torch_dtype: 'bfloat16',
    transformers_version: '4.42.3', use_cache: true, vocab_size: vocab,
  };
}

/**
 * config.json of Qwen/Qwen2.5-0.5B (Qwen2: q/k/v biases, GQA 14/2, tied embeddings, rope_theta 1e6, the vocabulary
 * padded past the tokenizer's) with hidden 896 -> 112, 24 -> 2 layers, heads 14/2 -> 7/1 (head size 16), MLP 4864 -> 288.
 */
export function qwen25Config(vocab: number, eos: number): Record<string, unknown> {
  return {
    architectures: ['Qwen2ForCausalLM'], attention_dropout: 0.0, bos_token_id: eos, eos_token_id: eos, hidden_act: 'silu', hidden_size: 112,
    initializer_range: 0.02, intermediate_size: 288, max_position_embeddings: 32768, max_window_layers: 2, model_type: 'qwen2',
    num_attention_heads: 7, num_hidden_layers: 2, num_key_value_heads: 1, rms_norm_eps: 1e-6, rope_theta: 1000000.0, sliding_window: 32768,
    tie_word_embeddings: true, torch_dtype: 'bfloat16', transformers_version: '4.40.1', use_cache: true, use_sliding_window: false,
    vocab_size: Math.ceil(vocab / 64) * 64,
  };
}

const SMOLLM2_TOKENIZER_CONFIG = { tokenizer_class: 'GPT2Tokenizer', bos_token: '<|endoftext|>', eos_token: '<|endoftext|>', unk_token: '<|endoftext|>', model_max_length: 8192, clean_up_tokenization_spaces: false, add_prefix_space: false };
const QWEN25_TOKENIZER_CONFIG = { tokenizer_class: 'Qwen2Tokenizer', bos_token: null, eos_token: '<|endoftext|>', pad_token: '<|endoftext|>', model_max_length: 131072, clean_up_tokenization_spaces: false, errors: 'replace', split_special_tokens: false };

/** The folder of a tiny random model of that flavour: config.json, model.safetensors (bf16), tokenizer.json, tokenizer_config.json. */
export async function tinyHubFolder(flavour: Flavour, seed: number): Promise<Map<string, Uint8Array>> {
  const tok = tinyBpeTokenizer(flavour);
  const eos = (tok.json as { added_tokens: { id: number }[] }).added_tokens[0].id;
  const config = flavour === 'smollm2' ? smollm2Config(tok.size) : qwen25Config(tok.size, eos);
  const layout = paramLayout(parseHfConfig(config));
  const params = initParams(layout, seed);
  const tensors: TensorToWrite[] = hfTensors(layout.tensors).map((hf) => {
    const data = new Float32Array(hf.hfShape.reduce((a, b) => a * b, 1));
    for (const t of hf.parts) intoHfTensor(t, view(params, t), data);
    return { name: hf.hfName, shape: hf.hfShape, dtype: 'BF16', data };
  });
  const enc = new TextEncoder();
  return new Map<string, Uint8Array>([
    ['config.json', enc.encode(JSON.stringify(config, null, 2))],
    ['model.safetensors', new Uint8Array(await writeSafetensors(tensors, { format: 'pt' }).arrayBuffer())],
    ['tokenizer.json', enc.encode(JSON.stringify(tok.json))],
    ['tokenizer_config.json', enc.encode(JSON.stringify(flavour === 'smollm2' ? SMOLLM2_TOKENIZER_CONFIG : QWEN25_TOKENIZER_CONFIG, null, 2))],
  ]);
}
