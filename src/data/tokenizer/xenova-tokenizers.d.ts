// Types for the one file of @xenova/transformers that Plantune imports: its tokenizers
// module. The package root would also load the model, pipeline, image and audio code
// (and sharp in Node). This module still imports onnxruntime through the library's env
// (bundled, about 0.6 MB minified, but no session is ever created, so nothing is
// fetched). Checked: Node, Vite dev and Vite build, in a module Web Worker.
// Only the members `load.ts` uses are declared.
declare module '@xenova/transformers/src/tokenizers.js' {
  export interface ChatTemplateMessage {
    role: string;
    content: string;
  }

  export class PreTrainedTokenizer {
    constructor(tokenizerJSON: object, tokenizerConfig: object);
    model: { vocab: string[]; tokens_to_ids: Map<string, number> };
    added_tokens: { content: string; id: number; special: boolean }[];
    encode(text: string, textPair?: string | null, options?: { add_special_tokens?: boolean }): number[];
    decode(ids: number[], options?: { skip_special_tokens?: boolean }): string;
    apply_chat_template(
      messages: ChatTemplateMessage[],
      options: { tokenize: false; add_generation_prompt?: boolean },
    ): string;
  }

  export const AutoTokenizer: {
    TOKENIZER_CLASS_MAPPING: Record<string, typeof PreTrainedTokenizer>;
  };
}
