// Bytes -> parsed JSON records, streaming. Takes a Blob/File (browser and Node 20), a ReadableStream, or
// any async iterable of Uint8Array chunks; sniffs the first bytes (binary? empty? JSON Lines or an
// array?), splits records incrementally, and decodes each record with a fatal UTF-8 decoder, so an
// encoding error is reported on its own line and the rest of the file still reads.

import { sniffBytes } from './detect';
import { JsonArraySplitter, LineSplitter, type Piece, type Splitter } from './record-splitters';
import type { Rejection, RowRejectCode } from './rejection';

export type ByteInput = Blob | ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>;

/** Records larger than this are rejected as too long instead of being buffered (1 MiB). */
export const DEFAULT_MAX_RECORD_BYTES = 1 << 20;
/** How much of the file's start is examined for NUL bytes and the container type. */
const SNIFF_BYTES = 8192;

export interface RecordOptions {
  /** Name used in locations and rejections. */
  file: string;
  maxRecordBytes?: number;
}

export type RecordEvent =
  | { kind: 'record'; value: unknown; line: number; index?: number }
  | { kind: 'rejection'; rejection: Rejection };

async function* streamChunks(stream: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  const reader = stream.getReader();
  let done = false;
  try {
    while (!done) {
      const next = await reader.read();
      done = next.done;
      if (next.value) yield next.value;
    }
  } finally {
    if (!done) await reader.cancel();
    reader.releaseLock();
  }
}

/** The chunks of any supported input, in order. */
export function byteChunks(input: ByteInput): AsyncIterable<Uint8Array> {
  if (typeof Blob !== 'undefined' && input instanceof Blob) return streamChunks(input.stream());
  if (typeof ReadableStream !== 'undefined' && input instanceof ReadableStream) return streamChunks(input);
  return input as AsyncIterable<Uint8Array>;
}

/** Offset of the first byte that breaks UTF-8 (for the error message), or -1. */
function firstInvalidUtf8(bytes: Uint8Array): number {
  for (let i = 0; i < bytes.length; ) {
    const c = bytes[i];
    const extra = c < 0x80 ? 0 : c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2 : c >= 0xf0 && c <= 0xf4 ? 3 : -1;
    if (extra < 0) return i;
    // Second-byte ranges that exclude overlong forms, surrogates and code points above U+10FFFF.
    const lo = c === 0xe0 ? 0xa0 : c === 0xf0 ? 0x90 : 0x80;
    const hi = c === 0xed ? 0x9f : c === 0xf4 ? 0x8f : 0xbf;
    for (let k = 1; k <= extra; k++) {
      const b = bytes[i + k];
      if (b === undefined || b < (k === 1 ? lo : 0x80) || b > (k === 1 ? hi : 0xbf)) return i;
    }
    i += extra + 1;
  }
  return -1;
}

const decoder = new TextDecoder('utf-8', { fatal: true });

function decodeRecord(piece: Extract<Piece, { kind: 'bytes' }>): { value: unknown } | { code: RowRejectCode; reason: string } {
  let text: string;
  try {
    text = decoder.decode(piece.bytes);
  } catch {
    const at = firstInvalidUtf8(piece.bytes);
    return { code: 'invalid-utf8', reason: `invalid UTF-8 (byte 0x${piece.bytes[at]?.toString(16) ?? '??'} at offset ${at} of the record)` };
  }
  try {
    return { value: JSON.parse(text) };
  } catch (e) {
    return { code: 'invalid-json', reason: `invalid JSON: ${(e as Error).message}` };
  }
}

function toEvent(piece: Piece, file: string, maxBytes: number): RecordEvent {
  const where = { file, line: piece.line, ...(piece.kind !== 'file-error' && piece.index !== undefined ? { index: piece.index } : {}) };
  switch (piece.kind) {
    case 'file-error':
      return { kind: 'rejection', rejection: { scope: 'file', code: piece.code, reason: piece.reason, ...where } };
    case 'empty':
      return { kind: 'rejection', rejection: { scope: 'row', code: 'invalid-json', reason: 'invalid JSON: empty array element (two commas, or a comma before "]")', ...where } };
    case 'too-long':
      return { kind: 'rejection', rejection: { scope: 'row', code: 'too-long', reason: `record is ${piece.size} bytes, over the ${maxBytes}-byte limit`, ...where } };
    case 'bytes': {
      const decoded = decodeRecord(piece);
      if ('value' in decoded) return { kind: 'record', value: decoded.value, line: piece.line, ...(piece.index !== undefined ? { index: piece.index } : {}) };
      return { kind: 'rejection', rejection: { scope: 'row', code: decoded.code, reason: decoded.reason, ...where } };
    }
  }
}

/** Reads JSON records one at a time; problems come out as rejections in file order, nothing is skipped silently. */
export async function* readRecords(input: ByteInput, options: RecordOptions): AsyncGenerator<RecordEvent> {
  const maxBytes = options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
  const chunks = byteChunks(input)[Symbol.asyncIterator]();
  try {
    // The head: at least SNIFF_BYTES, and on past leading whitespace to the first real byte (up to maxBytes).
    const head: Uint8Array[] = [];
    let headSize = 0;
    let ended = false;
    let sawText = false;
    while (!ended && (headSize < SNIFF_BYTES || !sawText) && headSize <= maxBytes) {
      const next = await chunks.next();
      if (next.done) ended = true;
      else if (next.value.length > 0) {
        head.push(next.value);
        headSize += next.value.length;
        sawText ||= next.value.some((b) => b !== 0x20 && b !== 0x0a && b !== 0x0d && b !== 0x09);
      }
    }
    const headBytes = new Uint8Array(headSize);
    let at = 0;
    for (const c of head) {
      headBytes.set(c, at);
      at += c.length;
    }
    const sniffed = sniffBytes(headBytes);
    if ('error' in sniffed) {
      yield { kind: 'rejection', rejection: { scope: 'file', code: sniffed.error, reason: sniffed.reason, file: options.file } };
      return;
    }
    const splitter: Splitter = sniffed.container === 'jsonl' ? new LineSplitter(maxBytes) : new JsonArraySplitter(maxBytes);
    for (const piece of splitter.push(headBytes.subarray(sniffed.skip))) yield toEvent(piece, options.file, maxBytes);
    while (!ended) {
      const next = await chunks.next();
      if (next.done) ended = true;
      else for (const piece of splitter.push(next.value)) yield toEvent(piece, options.file, maxBytes);
    }
    for (const piece of splitter.end()) yield toEvent(piece, options.file, maxBytes);
  } finally {
    await chunks.return?.();
  }
}
