// `npm run make:default-model`: trains the tiny default model from scratch with Plantune's own
// trainer on the synthetic task's language (arithmetic facts and direct-answer problems) and
// writes public/models/plantune-tiny/{config.json, model.safetensors, tokenizer.json, tokenizer_config.json}.
import { byteLevelTokenizerConfig, byteLevelTokenizerJson } from '../data/tokenizer/byte-level';
import { loadTokenizer } from '../data/tokenizer/load';
import { Engine } from '../gpu/engine';
import { readF32 } from '../gpu/transfer';
import { parseHfConfig } from '../model/config';
import { exportHfModel } from '../model/hf-weights';
import { initParams } from '../model/init';
import { Transformer } from '../model/transformer';
import { tokenizeExamples } from '../train/batches';
import { AdamW } from '../train/optimizer';
import { newSftState, runSft } from '../train/sft';
import { pretrainCorpus } from '../train/synthetic-sets';
import { textExamples } from '../train/text-examples';
import { num, parseFlags, str } from './args';
import type { HeadlessContext } from './headless-entry';

/** The default model: a Llama-architecture model of about 1.2 M parameters over bytes. */
export const DEFAULT_MODEL_CONFIG = {
  architectures: ['LlamaForCausalLM'],
  model_type: 'llama',
  vocab_size: 260,
  hidden_size: 128,
  intermediate_size: 384,
  num_hidden_layers: 6,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  max_position_embeddings: 640,
  rms_norm_eps: 1e-5,
  rope_theta: 10000,
  tie_word_embeddings: false,
  bos_token_id: 1,
  eos_token_id: 2,
  pad_token_id: 0,
};

export default async function makeDefaultModel(ctx: HeadlessContext): Promise<number> {
  const flags = parseFlags(ctx.args, ['steps', 'out', 'seed', 'lr', 'batch']);
  const steps = num(flags, 'steps', 150);
  const out = str(flags, 'out', 'public/models/plantune-tiny');
  const seed = num(flags, 'seed', 1);
  const e = await Engine.create();
  ctx.log(`adapter: ${e.gpu.adapter.name}`);
  const cfg = parseHfConfig(DEFAULT_MODEL_CONFIG);
  const tokenizerJson = byteLevelTokenizerJson();
  const tokenizerConfig = byteLevelTokenizerConfig(cfg.maxT);
  const tokenizer = await loadTokenizer(tokenizerJson, tokenizerConfig);

  const B = num(flags, 'batch', 8);
  const T = 256;
  const corpus = pretrainCorpus(20000, 20000, 500);
  const facts = textExamples(corpus.facts, tokenizer, 'fact');
  const direct = tokenizeExamples(corpus.problems, tokenizer, { style: 'direct', maxLength: T + 1, trainOnPrompt: true }).examples;
  const examples = [...facts, ...direct];
  const model = new Transformer(e, cfg, { B, T });
  model.params.upload(initParams(model.layout, seed));
  ctx.log(`model: ${cfg.architecture}, ${(model.layout.numParams / 1e6).toFixed(2)} M parameters; corpus: ${facts.length} facts + ${direct.length} direct-answer problems`);
  const opt = new AdamW(e, model.params, model.grads!, { beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1, maxGradNorm: 1 });
  const t0 = performance.now();
  await runSft(
    model, opt, tokenizer, examples, [],
    {
      // packed rows of T tokens: facts are short, so padding would waste most of the compute
      steps, batchSize: B, gradAccum: 1, seed, logEvery: 10, evalEvery: 0, evalMaxNewTokens: 0, packDraw: Math.ceil((B * T) / 60),
      schedule: { lr: num(flags, 'lr', 3e-3), warmupSteps: Math.min(100, Math.floor(steps / 10)), decay: 'cosine', minLrRatio: 0.1 },
    },
    newSftState(examples.length, seed),
    { onStep: (m) => ctx.log(`step ${m.step}/${steps} loss ${m.loss.toFixed(4)} lr ${m.lr.toExponential(2)} grad-norm ${m.gradNorm.toFixed(3)} ${m.tokensPerSecond.toFixed(0)} tok/s eta ${m.eta.toFixed(0)} s`) },
  );
  const params = await readF32(e.gpu, model.params.flat);
  const exported = exportHfModel(model.layout, params);
  await ctx.writeFile(`${out}/config.json`, exported.configJson);
  await ctx.writeFile(`${out}/model.safetensors`, new Uint8Array(await exported.safetensors.arrayBuffer()));
  await ctx.writeFile(`${out}/tokenizer.json`, JSON.stringify(tokenizerJson));
  await ctx.writeFile(`${out}/tokenizer_config.json`, JSON.stringify(tokenizerConfig, null, 2));
  ctx.log(`wrote ${out} after ${((performance.now() - t0) / 60000).toFixed(1)} min of training (${steps} steps)`);
  return 0;
}
