// Rejections as CSV (RFC 4180), safe to open in a spreadsheet.
import type { RejectionRow } from '../worker/api';

/** Quotes a field when needed; a leading = + - @ is defused so a spreadsheet does not run it as a formula. */
export function csvField(value: string | number | undefined): string {
  let text = value === undefined ? '' : String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function rejectionsCsv(rows: readonly RejectionRow[]): string {
  const lines = [['file', 'line', 'element', 'code', 'reason'].join(',')];
  for (const r of rows) lines.push([r.file, r.line || undefined, r.index, r.code, r.reason].map(csvField).join(','));
  return lines.join('\r\n') + '\r\n';
}
