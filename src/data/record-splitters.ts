// Incremental splitters that cut a byte stream into records without ever holding more than one record
// (capped at `maxBytes`) plus one chunk: JSON Lines by newline, and one top-level JSON array element by
// element, tracking nesting depth, strings and escapes. They work on bytes, not text: every byte that
// matters ( [ ] { } , " \ newline ) is ASCII, and UTF-8 never uses ASCII bytes inside a multi-byte
// character, so a chunk boundary can fall anywhere. Decoding and JSON parsing happen per record, later.

import type { FileErrorCode } from './rejection';

export type Piece =
  /** The bytes of one record. `line` is where it starts (1-based); `index` its array position. */
  | { kind: 'bytes'; line: number; index?: number; bytes: Uint8Array }
  /** A record longer than `maxBytes`, skipped without being buffered. */
  | { kind: 'too-long'; line: number; index?: number; size: number }
  /** An array slot with nothing in it: `[1,,2]` or a trailing comma `[1,2,]`. */
  | { kind: 'empty'; line: number; index: number }
  /** The file cannot be split further (truncated array, content after the closing bracket). */
  | { kind: 'file-error'; code: FileErrorCode; line: number; reason: string };

const NL = 0x0a;
const isSpace = (b: number): boolean => b === 0x20 || b === NL || b === 0x0d || b === 0x09;

/** Accumulates the bytes of one record up to a cap; past it only counts them. */
class Collector {
  private parts: Uint8Array[] = [];
  size = 0;

  constructor(private readonly maxBytes: number) {}

  get overflowed(): boolean {
    return this.size > this.maxBytes;
  }

  /** Appends `bytes`; `retain` copies them, for data kept past the current chunk. */
  add(bytes: Uint8Array, retain: boolean): void {
    if (bytes.length === 0) return;
    this.size += bytes.length;
    if (this.overflowed) this.parts = [];
    else this.parts.push(retain ? bytes.slice() : bytes);
  }

  take(): Uint8Array {
    const parts = this.parts;
    this.parts = [];
    this.size = 0;
    if (parts.length === 1) return parts[0];
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }
}

export interface Splitter {
  push(chunk: Uint8Array): Iterable<Piece>;
  end(): Iterable<Piece>;
}

/** JSON Lines: one record per `\n`-terminated line; blank lines are skipped (they are not records). */
export class LineSplitter implements Splitter {
  private readonly current: Collector;
  private line = 1;
  private blank = true;

  constructor(maxBytes: number) {
    this.current = new Collector(maxBytes);
  }

  *push(chunk: Uint8Array): Generator<Piece> {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(NL, start);
      const end = nl < 0 ? chunk.length : nl;
      for (let i = start; this.blank && i < end; i++) if (!isSpace(chunk[i])) this.blank = false;
      this.current.add(chunk.subarray(start, end), nl < 0);
      if (nl < 0) return;
      const piece = this.finishLine();
      if (piece) yield piece;
      this.line++;
      start = nl + 1;
    }
  }

  *end(): Generator<Piece> {
    const piece = this.finishLine();
    if (piece) yield piece;
  }

  private finishLine(): Piece | undefined {
    const { size, overflowed } = this.current;
    const bytes = this.current.take();
    const blank = this.blank;
    this.blank = true;
    if (blank) return undefined;
    return overflowed ? { kind: 'too-long', line: this.line, size } : { kind: 'bytes', line: this.line, bytes };
  }
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

/**
 * One top-level JSON array, element by element. The caller has checked that only whitespace (and a
 * byte-order mark it skipped) precedes the `[`. Malformed elements still come out as pieces (JSON
 * parsing reports them); only a missing `]` or content after it stops the split.
 */
export class JsonArraySplitter implements Splitter {
  private readonly current: Collector;
  /** 0 before `[` and after `]`; 1 between elements; deeper inside an element's objects/arrays. */
  private depth = 0;
  private started = false;
  private closed = false;
  private stopped = false;
  private inString = false;
  private escaped = false;
  private inElement = false;
  /** True after `[` or `,`: an element must come next. */
  private expectElement = false;
  private line = 1;
  private index = 0;
  private elementLine = 0;

  constructor(maxBytes: number) {
    this.current = new Collector(maxBytes);
  }

  *push(chunk: Uint8Array): Generator<Piece> {
    let start = 0;
    for (let i = 0; i < chunk.length && !this.stopped; i++) {
      let b = chunk[i];
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else {
          // Most bytes are string content: skip to the next quote, backslash or newline in a tight loop.
          while (b !== QUOTE && b !== BACKSLASH && b !== NL && i + 1 < chunk.length) b = chunk[++i];
          if (b === BACKSLASH) this.escaped = true;
          else if (b === QUOTE) this.inString = false;
        }
        if (b === NL) this.line++;
        continue;
      }
      if (b === NL) this.line++;
      if (this.closed) {
        if (!isSpace(b)) {
          this.stopped = true;
          yield { kind: 'file-error', code: 'trailing-content', line: this.line, reason: `unexpected content after the closing "]" on line ${this.line}` };
        }
        continue;
      }
      if (!this.started) {
        if (b === OPEN_BRACKET) {
          this.started = true;
          this.depth = 1;
          this.expectElement = true;
        }
        continue;
      }
      if (!this.inElement) {
        if (isSpace(b)) continue;
        if (b === COMMA || b === CLOSE_BRACKET) {
          const trailingComma = b === CLOSE_BRACKET && this.expectElement && this.index > 0;
          if (b === COMMA || trailingComma) yield { kind: 'empty', line: this.line, index: this.index++ };
          if (b === CLOSE_BRACKET) this.close();
          continue;
        }
        this.inElement = true;
        this.elementLine = this.line;
        start = i;
      }
      if (b === QUOTE) this.inString = true;
      else if (b === OPEN_BRACE || b === OPEN_BRACKET) this.depth++;
      else if (b === CLOSE_BRACE && this.depth > 1) this.depth--;
      else if (b === CLOSE_BRACKET && this.depth > 1) this.depth--;
      else if ((b === COMMA || b === CLOSE_BRACKET) && this.depth === 1) {
        this.current.add(chunk.subarray(start, i), false);
        yield this.finishElement();
        this.expectElement = b === COMMA;
        if (b === CLOSE_BRACKET) this.close();
      }
    }
    if (this.inElement && !this.stopped) this.current.add(chunk.subarray(start), true);
  }

  *end(): Generator<Piece> {
    if (this.closed || this.stopped) return;
    const reason = this.inElement
      ? `the file ends inside element ${this.index} (line ${this.elementLine}) before the closing "]"; is it truncated?`
      : 'the file ends before the closing "]" of the array; is it truncated?';
    yield { kind: 'file-error', code: 'truncated', line: this.line, reason };
  }

  private close(): void {
    this.closed = true;
    this.depth = 0;
  }

  private finishElement(): Piece {
    const { size, overflowed } = this.current;
    const bytes = this.current.take();
    const where = { line: this.elementLine, index: this.index++ };
    this.inElement = false;
    return overflowed ? { kind: 'too-long', ...where, size } : { kind: 'bytes', ...where, bytes };
  }
}
