// Why a row (or a whole file) was not imported. Every record that is not kept becomes one of these,
// with its location, so an import never drops anything silently.

/** Problems with one record (a JSONL line or a JSON array element). */
export type RowRejectCode =
  | 'invalid-json'
  | 'invalid-utf8'
  | 'too-long'
  | 'wrong-type'
  | 'missing-question'
  | 'missing-answer'
  | 'unparseable-answer'
  | 'empty-plan'
  | 'malformed-plan'
  | 'unknown-format'
  | 'duplicate-id'
  | 'duplicate-row';

/** Problems with the file as a whole; reading stops (or never starts). */
export type FileErrorCode =
  | 'empty-file'
  | 'binary-file'
  | 'unsupported-encoding'
  | 'not-json'
  | 'truncated'
  | 'trailing-content';

export type RejectCode = RowRejectCode | FileErrorCode;

/** What a format parser returns instead of a Trajectory (a class, so a row's own fields never pass for one). */
export class RowRejection {
  constructor(
    readonly code: RowRejectCode,
    /** Human-readable explanation, specific enough to fix the row. */
    readonly reason: string,
  ) {}
}

export interface Rejection {
  scope: 'row' | 'file';
  code: RejectCode;
  reason: string;
  file: string;
  /** 1-based line where the record starts (JSONL line, or the line of a JSON array element). */
  line?: number;
  /** 0-based position of the element in a JSON array. */
  index?: number;
}

export function rowRejection(code: RowRejectCode, reason: string): RowRejection {
  return new RowRejection(code, reason);
}

export function isRowRejection(value: unknown): value is RowRejection {
  return value instanceof RowRejection;
}

/** "data.json line 12 (element 3): missing question" */
export function formatRejection(r: Rejection): string {
  const where = [r.line !== undefined ? `line ${r.line}` : '', r.index !== undefined ? `(element ${r.index})` : '']
    .filter(Boolean)
    .join(' ');
  return `${r.file}${where ? ' ' + where : ''}: ${r.reason}`;
}
