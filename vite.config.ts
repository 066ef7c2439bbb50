import { defineConfig } from 'vite';

// The page, its Web Worker and the headless runner all import WGSL as text (`?raw`).
export default defineConfig({
  worker: { format: 'es' },
  build: { target: 'es2022', outDir: 'dist' },
  server: { fs: { allow: ['.', '../shared'] } },
  // Pre-bundled up front so the first test run does not reload mid-way when Vite discovers them.
  optimizeDeps: { include: ['dexie', 'comlink', 'uplot', '@xenova/transformers/src/tokenizers.js'] },
});
