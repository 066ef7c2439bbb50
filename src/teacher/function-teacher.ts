// A teacher made from a plain generate function: how a model running inside Plantune (a larger model
// loaded in the page, through the model module's KV-cache generation) plugs in as a teacher, and a
// convenient fake in tests.
//
//   const teacher = new FunctionTeacher(async (messages, o) => {
//     const prompt = applyChatTemplate(tokenizer, messages);          // the model's own chat format
//     const out = await model.generate(prompt, { maxNewTokens: o.maxTokens, temperature: o.temperature, signal: o.signal });
//     return { text: out.text, finishReason: out.hitLimit ? 'length' : 'stop',
//              promptTokens: out.promptTokens, completionTokens: out.newTokens };
//   }, { model: 'Qwen2.5-1.5B-Instruct (local)' });

import { TeacherError, asTeacherError, isAbortError } from './errors';
import { checkFinish } from './http-teacher';
import { Semaphore } from './limiter';
import type { ChatMessage, CompleteOptions, Completion, FinishReason, Teacher } from './types';

export interface Generation {
  text: string;
  finishReason: FinishReason;
  promptTokens?: number;
  completionTokens?: number;
}

export interface GenerateOptions {
  temperature?: number;
  maxTokens?: number;
  stop?: string[];
  signal?: AbortSignal;
}

export type GenerateFn = (messages: ChatMessage[], options: GenerateOptions) => Promise<Generation>;

export interface FunctionTeacherOptions {
  model: string;
  /** Shown in messages and recorded as provenance (default 'local'). */
  endpoint?: string;
  /** Generations at once (default 1: one model, one GPU). */
  concurrency?: number;
}

export class FunctionTeacher implements Teacher {
  readonly model: string;
  readonly endpoint: string;
  readonly #generate: GenerateFn;
  readonly #limiter: Semaphore;

  constructor(generate: GenerateFn, options: FunctionTeacherOptions) {
    this.#generate = generate;
    this.model = options.model;
    this.endpoint = options.endpoint ?? 'local';
    this.#limiter = new Semaphore(options.concurrency ?? 1);
  }

  async complete(messages: ChatMessage[], options: CompleteOptions = {}): Promise<Completion> {
    const { signal } = options;
    let out: Generation;
    try {
      out = await this.#limiter.run(
        () => this.#generate(messages, { temperature: options.temperature, maxTokens: options.maxTokens, stop: options.stop, signal }),
        signal,
      );
    } catch (e) {
      if (signal?.aborted || isAbortError(e)) throw new TeacherError('aborted', 'cancelled');
      if (e instanceof TeacherError) throw e;
      throw new TeacherError('server', `the ${this.endpoint} teacher failed: ${asTeacherError(e).message}`);
    }
    const usage = { promptTokens: out.promptTokens ?? 0, completionTokens: out.completionTokens ?? 0, requests: 1 };
    checkFinish(out, usage, options, this.endpoint);
    return { text: out.text, usage, finishReason: out.finishReason };
  }
}
