// What every format parser shares: its signature, where a row came from, and field checks that turn
// a wrong or missing field into a typed rejection.

import { rowRejection, type RowRejectCode, type RowRejection } from '../rejection';
import type { SourceFormat, Trajectory } from '../trajectory';

/** Where a record sits in its file. */
export interface RowContext {
  file: string;
  /** 1-based line where the record starts. */
  line: number;
  /** 0-based element position when the file is a JSON array. */
  index?: number;
}

export type ParseResult = Trajectory | RowRejection;

export interface FormatParser {
  format: SourceFormat;
  /** Turns one already JSON-parsed record into a Trajectory, or says why it cannot. */
  parse(value: unknown, ctx: RowContext): ParseResult;
}

export type Fields = Record<string, unknown>;

/** `file:line` for JSONL, `file[index]` for array elements: unique in a file, stable across re-imports. */
export function rowId(ctx: RowContext): string {
  return ctx.index === undefined ? `${ctx.file}:${ctx.line}` : `${ctx.file}[${ctx.index}]`;
}

/** Provenance kept in `Trajectory.meta`. */
export function provenance(ctx: RowContext): Record<string, unknown> {
  return ctx.index === undefined ? { file: ctx.file, line: ctx.line } : { file: ctx.file, line: ctx.line, index: ctx.index };
}

/** "string", "number", "array", "null", "object", … for messages. */
export function typeName(value: unknown): string {
  if (value === null) return 'null';
  return Array.isArray(value) ? 'array' : typeof value;
}

export function asFields(value: unknown): Fields | RowRejection {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Fields;
  return rowRejection('wrong-type', `expected a JSON object, got ${typeName(value)}`);
}

/**
 * A required non-empty string field. Absent, null or blank gives `missingCode`; any other type gives
 * `wrong-type`.
 */
export function requiredString(fields: Fields, key: string, missingCode: RowRejectCode): string | RowRejection {
  const value = fields[key];
  if (value === undefined || value === null) return rowRejection(missingCode, `missing "${key}"`);
  if (typeof value !== 'string') return rowRejection('wrong-type', `"${key}" must be a string, got ${typeName(value)}`);
  if (!value.trim()) return rowRejection(missingCode, `"${key}" is empty`);
  return value;
}

/** A required array whose every element is a string. */
export function stringArray(fields: Fields, key: string, missingCode: RowRejectCode): string[] | RowRejection {
  const value = fields[key];
  if (value === undefined || value === null) return rowRejection(missingCode, `missing "${key}"`);
  if (!Array.isArray(value)) return rowRejection('wrong-type', `"${key}" must be an array of strings, got ${typeName(value)}`);
  const bad = value.findIndex((v) => typeof v !== 'string');
  if (bad >= 0) return rowRejection('wrong-type', `"${key}"[${bad}] must be a string, got ${typeName(value[bad])}`);
  return value as string[];
}
