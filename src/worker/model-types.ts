// The model part of the trainer worker's API: the default model, models dropped by the user
// (HF folder or llama2.c .bin) or fetched from the Hugging Face hub, stored in IndexedDB, and
// what each costs on this adapter.

import type { MemoryEstimate } from '../model/memory';

/** Where a model comes from: the served default, a stored one, or a served folder. */
export type ModelRef = { kind: 'default' } | { kind: 'stored'; id: string } | { kind: 'dir'; dir: string };

/** Bytes of parameters, gradients, moments, activations... and whether they fit: see src/model/memory.ts. */
export type { MemoryEstimate };

export interface ModelInfo {
  ref: ModelRef;
  name: string;
  /** HF architecture, e.g. LlamaForCausalLM. */
  architecture: string;
  family: 'llama' | 'gpt2';
  params: number;
  layers: number;
  hidden: number;
  heads: number;
  kvHeads: number;
  vocab: number;
  context: number;
  tiedEmbeddings: boolean;
  tokenizer: string;
  /** Files and their sizes. */
  files: { name: string; bytes: number }[];
}

export interface StoredModelInfo extends ModelInfo {
  id: string;
  createdAt: number;
  /** Where it came from: "files", "hub owner/name@main", "files: llama2.c model.bin, converted to safetensors". */
  source: string;
}

export interface ModelDownloadProgress {
  file: string;
  loaded: number;
  total: number | null;
  /** Bytes over all files so far, and their total when known. */
  loadedAll: number;
  totalAll: number | null;
}

/** Checking every weight of a model being imported (bytes of tensors read), then storing it (bytes). */
export interface ModelImportProgress {
  phase: 'checking' | 'storing';
  /** The tensor just read (checking). */
  file: string;
  loaded: number;
  total: number;
}

/** Hub download settings beyond the repo id. */
export interface HubImportOptions {
  /** Branch, tag or commit (default "main"). */
  revision?: string;
  /** A Hugging Face access token, for gated or private repos: sent only in the Authorization header, never stored. */
  token?: string;
}

export interface ModelApi {
  /** Reads a model's config and file list (no weights uploaded). */
  describeModel(ref: ModelRef): Promise<ModelInfo>;
  /** Memory a run of this model would take with (batch, seq, LoRA rank or full), against this adapter. */
  estimateMemory(ref: ModelRef, plan: { batch: number; seq: number; loraRank?: number; genRows?: number }): Promise<MemoryEstimate>;
  /** Validates (config, weights, tokenizer) and stores dropped files: a HF folder's files, or one llama2.c .bin (with tokenizer.json if any). */
  importModel(files: File[], name?: string, onProgress?: (p: ModelImportProgress) => void): Promise<StoredModelInfo>;
  /** Downloads a model from the Hugging Face hub by repo id (online only), with progress, and stores it. */
  importHubModel(repoId: string, onProgress?: (p: ModelDownloadProgress) => void, opts?: HubImportOptions): Promise<StoredModelInfo>;
  listModels(): Promise<StoredModelInfo[]>;
  deleteModel(id: string): Promise<void>;
}
