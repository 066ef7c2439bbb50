// Shared by the data tests: where the real data lives, and small input builders.

import { openAsBlob } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { importFile, type ImportOptions } from '../../src/data/validate';

/** ../shared/data next to the repository (see /work/shared/data/README.md). */
export const DATA_DIR = new URL('../../../shared/data/', import.meta.url);

export const dataPath = (rel: string): string => fileURLToPath(new URL(rel, DATA_DIR));

/** A real data file as a Blob (the browser's File path), imported with the checked pipeline. */
export async function importDataFile(rel: string, options: ImportOptions = {}) {
  const blob = await openAsBlob(dataPath(rel));
  return importFile(blob, { file: rel.split('/').pop(), ...options });
}

/** Plain JSON.parse of every line of a JSONL data file, independent of the code under test. */
export async function jsonLines(rel: string): Promise<Record<string, unknown>[]> {
  const text = await readFile(dataPath(rel), 'utf8');
  return text.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as Record<string, unknown>);
}

export const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);

/** Bytes as an async iterable of chunks of `size` bytes (the last may be shorter). */
export async function* chunked(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.slice(at, at + size);
}

/** Concatenates byte arrays. */
export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
