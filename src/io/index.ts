// Weight file I/O: safetensors (single and sharded), the Hugging Face hub, PEFT LoRA
// adapters, and llama2.c checkpoints. Pure TypeScript over Blob / fetch: runs in the
// page, in a Web Worker and in Node.
export * from './errors';
export * from './safetensors';
export * from './sharded';
export * from './hub';
export * from './peft';
export * from './llama2c';
export { HOST_LE, toLittleEndianBytes } from './dtype';
