// A local teacher: a (larger) model loaded by Plantune onto this GPU, answering the teacher's chat
// prompts through the model module's KV-cache generation. It plugs into jobs as any Teacher does,
// through FunctionTeacher (one generation at a time: one model, one GPU).
//
//   const local = createLocalTeacher(engine, { name: 'Qwen2.5-0.5B-Instruct', config, params, tokenizer });
//   await runJob({ job, questions, teacher: local.teacher, store });
//   local.destroy();
//
// Chat messages become the prompt through the tokenizer's chat template when tokenizer_config.json
// has one that @xenova/transformers renders (system + user turns, with the assistant header for
// generation); otherwise as plain text (see `plainChat`). Token counts are the real ones: the prompt's
// ids, and the tokens sampled (the end-of-sequence token included when it ended the answer).
// Not in src/teacher/index.ts: it needs WebGPU, and the index also serves the Node CLI.
import type { Tokenizer } from '../data/tokenizer/load';
import type { Engine } from '../gpu/engine';
import { DeviceLostError } from '../gpu/errors';
import type { ModelConfig } from '../model/config';
import { generateWithCache } from '../model/generate-cached';
import { Transformer } from '../model/transformer';
import { TeacherError } from './errors';
import { FunctionTeacher, type GenerateOptions, type Generation } from './function-teacher';
import type { ChatMessage } from './types';

/** The longest sequence (prompt + answer) allocated when the model's own context is longer. */
export const LOCAL_CONTEXT_CAP = 4096;

export interface LocalModel {
  /** Recorded as the teacher model of every trajectory. */
  name: string;
  config: ModelConfig;
  /** Flat parameters laid out by paramLayout(config). */
  params: Float32Array;
  tokenizer: Tokenizer;
}

export interface LocalTeacherOptions {
  /** Longest prompt + answer, in tokens (default: the model's context, at most LOCAL_CONTEXT_CAP). */
  context?: number;
  /** First sampling seed; each generation takes the next one, so n samples differ (default: random). */
  seed?: number;
}

export interface LocalTeacher {
  teacher: FunctionTeacher;
  /** How chat messages are turned into text. */
  chatFormat: 'chat-template' | 'plain';
  /** Prompt + answer tokens the model was allocated for. */
  context: number;
  /** The prompt's token ids, as generation will see them. */
  encodeChat(messages: ChatMessage[]): number[];
  /** Frees the model's GPU buffers. */
  destroy(): void;
}

const ROLE_NAMES: Record<ChatMessage['role'], string> = { system: 'System', user: 'User', assistant: 'Assistant' };

/** Plain-text chat: "System: …", "User: …" blocks separated by a blank line, ending with "Assistant:". */
export function plainChat(messages: readonly ChatMessage[]): string {
  return [...messages.map((m) => `${ROLE_NAMES[m.role]}: ${m.content}`), 'Assistant:'].join('\n\n');
}

/** Uses the chat template only if it renders a system + user conversation. */
function templateWorks(tokenizer: Tokenizer): boolean {
  if (!tokenizer.applyChatTemplate) return false;
  try {
    const text = tokenizer.applyChatTemplate([{ role: 'system', content: 'S' }, { role: 'user', content: 'U' }], { addGenerationPrompt: true });
    return text.includes('S') && text.includes('U');
  } catch {
    return false;
  }
}

export function createLocalTeacher(engine: Engine, model: LocalModel, options: LocalTeacherOptions = {}): LocalTeacher {
  const { config, tokenizer } = model;
  const context = Math.min(options.context ?? config.maxT, config.maxT, LOCAL_CONTEXT_CAP);
  const chatFormat = templateWorks(tokenizer) ? 'chat-template' : 'plain';
  const eosIds = [...new Set([tokenizer.eosId, ...config.eosTokenIds])];
  let seed = options.seed ?? Math.floor(Math.random() * 2 ** 31);

  // B = 1: one sequence at a time; eval mode (no gradients).
  const transformer = new Transformer(engine, config, { B: 1, T: context, train: false });
  transformer.params.upload(model.params);

  const encodeChat = (messages: ChatMessage[]): number[] =>
    chatFormat === 'chat-template'
      ? tokenizer.encode(tokenizer.applyChatTemplate!(messages, { addGenerationPrompt: true }))
      : tokenizer.encode(plainChat(messages), { addBos: true });

  const generate = async (messages: ChatMessage[], o: GenerateOptions): Promise<Generation> => {
    const prompt = encodeChat(messages);
    if (prompt.length >= context) {
      throw new TeacherError(
        'bad-request',
        `the prompt has ${prompt.length} tokens and ${model.name} reads at most ${context} (prompt and answer together): shorten the prompt templates or use a model with a longer context`,
      );
    }
    let gen;
    try {
      [gen] = await generateWithCache(transformer, [prompt], {
        maxNewTokens: Math.min(o.maxTokens ?? context, context - prompt.length),
        temperature: o.temperature ?? 0,
        seed: seed++,
        eosIds,
        padId: tokenizer.padId,
        stopStrings: o.stop,
        decode: (ids) => tokenizer.decode(ids, { skipSpecial: true }),
      });
    } catch (e) {
      if (e instanceof DeviceLostError || engine.gpu.isLost) {
        throw new TeacherError('unreachable', `the GPU device running ${model.name} was lost (${e instanceof Error ? e.message : String(e)}); resume the job to load it again`);
      }
      throw e;
    }
    let text = tokenizer.decode(gen.tokens, { skipSpecial: true });
    if (gen.finish === 'stop' && o.stop?.length) {
      const at = Math.min(...o.stop.map((s) => text.indexOf(s)).filter((i) => i >= 0));
      text = text.slice(0, at);
    }
    return {
      text,
      finishReason: gen.finish === 'length' ? 'length' : 'stop',
      promptTokens: prompt.length,
      completionTokens: gen.tokens.length + (gen.finish === 'eos' ? 1 : 0),
    };
  };

  return {
    teacher: new FunctionTeacher(generate, { model: model.name, endpoint: 'local', concurrency: 1 }),
    chatFormat,
    context,
    encodeChat,
    destroy: () => transformer.destroy(),
  };
}
