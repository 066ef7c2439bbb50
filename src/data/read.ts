// File -> Trajectories, streaming: records from `readRecords`, the format from the first recognisable
// record (or the caller's override), one parser call per record. For the checked import with duplicate
// detection and a summary, use `importFile` / `streamImport` in validate.ts.

import { describeUnknownRecord, detectFormat } from './detect';
import { FORMAT_PARSERS, type FormatParser } from './formats';
import { readRecords, type ByteInput } from './records';
import { isRowRejection, type Rejection } from './rejection';
import type { SourceFormat, Trajectory } from './trajectory';

export interface ReadOptions {
  /** Name used in row ids and rejections; defaults to the File's name, else "input". */
  file?: string;
  /** Record format; `auto` (the default) detects it from the first recognisable record. */
  format?: SourceFormat | 'auto';
  /** Records (lines or array elements) longer than this are rejected unread; default 1 MiB. */
  maxRecordBytes?: number;
}

export type ReadEvent =
  /** Emitted once, before the first row, when the format is known. */
  | { kind: 'format'; format: SourceFormat; detected: boolean }
  | { kind: 'row'; trajectory: Trajectory; line: number; index?: number }
  | { kind: 'rejection'; rejection: Rejection };

export function inputName(input: ByteInput, file?: string): string {
  if (file) return file;
  return typeof File !== 'undefined' && input instanceof File && input.name ? input.name : 'input';
}

export async function* readTrajectories(input: ByteInput, options: ReadOptions = {}): AsyncGenerator<ReadEvent> {
  const file = inputName(input, options.file);
  let parser: FormatParser | undefined;
  if (options.format && options.format !== 'auto') {
    parser = FORMAT_PARSERS[options.format];
    yield { kind: 'format', format: parser.format, detected: false };
  }
  for await (const event of readRecords(input, { file, maxRecordBytes: options.maxRecordBytes })) {
    if (event.kind === 'rejection') {
      yield event;
      continue;
    }
    const where = { file, line: event.line, ...(event.index !== undefined ? { index: event.index } : {}) };
    if (!parser) {
      const format = detectFormat(event.value);
      if (!format) {
        yield { kind: 'rejection', rejection: { scope: 'row', code: 'unknown-format', reason: describeUnknownRecord(event.value), ...where } };
        continue;
      }
      parser = FORMAT_PARSERS[format];
      yield { kind: 'format', format, detected: true };
    }
    const result = parser.parse(event.value, where);
    if (isRowRejection(result)) {
      yield { kind: 'rejection', rejection: { scope: 'row', code: result.code, reason: result.reason, ...where } };
    } else {
      yield { kind: 'row', trajectory: result, line: event.line, ...(event.index !== undefined ? { index: event.index } : {}) };
    }
  }
}
