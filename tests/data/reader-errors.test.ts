// Bad input is reported row by row with file, line (and array index) and reason; good rows are kept;
// whole-file problems are file-level errors.

import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { formatRejection } from '../../src/data/rejection';
import { importFile } from '../../src/data/validate';
import { chunked, concatBytes, dataPath, utf8 } from './helpers';

const good = (n: number): string => JSON.stringify({ question: `Ann has ${n} pens and buys 2 more. How many now?`, answer: `${n}+2=<<${n}+2=${n + 2}>>${n + 2}\n#### ${n + 2}` });

describe('JSON Lines with bad rows', () => {
  const lines: (string | Uint8Array)[] = [
    good(1),
    '{"question": "Broken?", "answer": "1\\n#### 1"',
    '{"question": 42, "answer": "1\\n#### 1"}',
    '{"question": "No final?", "answer": "I think it is 5"}',
    '{"question": "No steps?", "answer": "#### 5"}',
    concatBytes(utf8('{"question": "caf'), Uint8Array.of(0xff, 0xfe), utf8('?", "answer": "1\\n#### 1"}')),
    JSON.stringify({ question: 'Huge?', answer: 'x'.repeat(1_100_000) + '\n#### 1' }),
    good(2),
    '   ',
    '[1, 2]',
    '{"question": "Words?", "answer": "1+1=2\\n#### two"}',
    good(1),
    '{"answer": "1\\n#### 1"}',
  ];
  const bytes = concatBytes(...lines.flatMap((l) => [typeof l === 'string' ? utf8(l) : l, utf8('\n')]));

  it('keeps the good rows and rejects each bad one with its line and reason', async () => {
    const { trajectories, summary } = await importFile(chunked(bytes, 4096), { file: 'mixed.jsonl' });
    expect(trajectories.map((t) => t.id)).toEqual(['mixed.jsonl:1', 'mixed.jsonl:8']);
    expect(summary.fileErrors).toEqual([]);
    expect(summary.rejections.map((r) => [r.line, r.code])).toEqual([
      [2, 'invalid-json'],
      [3, 'wrong-type'],
      [4, 'missing-answer'],
      [5, 'empty-plan'],
      [6, 'invalid-utf8'],
      [7, 'too-long'],
      [10, 'wrong-type'],
      [11, 'unparseable-answer'],
      [12, 'duplicate-row'],
      [13, 'missing-question'],
    ]);
    expect(summary).toMatchObject({ rows: 12, kept: 2, rejected: 10, duplicates: 1, format: 'gsm8k' });
    expect(summary.rejectedByReason).toEqual({
      'invalid-json': 1, 'wrong-type': 2, 'missing-answer': 1, 'empty-plan': 1, 'invalid-utf8': 1,
      'too-long': 1, 'unparseable-answer': 1, 'duplicate-row': 1, 'missing-question': 1,
    });
    for (const r of summary.rejections) {
      expect(r).toMatchObject({ scope: 'row', file: 'mixed.jsonl' });
      expect(r.reason.length).toBeGreaterThan(5);
    }
    const byLine = new Map(summary.rejections.map((r) => [r.line, r.reason]));
    expect(byLine.get(3)).toBe('"question" must be a string, got number');
    expect(byLine.get(6)).toBe('invalid UTF-8 (byte 0xff at offset 17 of the record)');
    expect(byLine.get(7)).toMatch(/^record is \d+ bytes, over the 1048576-byte limit$/);
    expect(byLine.get(10)).toBe('expected a JSON object, got array');
    expect(byLine.get(12)).toBe('same question, plan, solution and answer as line 1');
    expect(formatRejection(summary.rejections[0])).toMatch(/^mixed\.jsonl line 2: invalid JSON: /);
  });

  it('gives the same result whatever the chunking', async () => {
    const whole = await importFile(chunked(bytes, bytes.length), { file: 'mixed.jsonl' });
    for (const size of [333, 65536]) expect(await importFile(chunked(bytes, size), { file: 'mixed.jsonl' })).toEqual(whole);
    // Byte-sized chunks on the rows without the 1 MB one (a million one-byte chunks only measure await overhead).
    const small = concatBytes(...lines.filter((_, i) => i !== 6).flatMap((l) => [typeof l === 'string' ? utf8(l) : l, utf8('\n')]));
    const smallWhole = await importFile(chunked(small, small.length), { file: 'mixed.jsonl' });
    expect(smallWhole.summary.rejected).toBe(9);
    for (const size of [1, 2, 3, 7]) expect(await importFile(chunked(small, size), { file: 'mixed.jsonl' })).toEqual(smallWhole);
  });

  it('applies a smaller record limit', async () => {
    const { summary } = await importFile(new Blob([`${good(1)}\n${good(2)}\n`]), { file: 'a.jsonl', maxRecordBytes: 40 });
    expect(summary.rejections.map((r) => r.code)).toEqual(['too-long', 'too-long']);
  });
});

describe('a JSON array with bad elements', () => {
  const text = `[
  ${good(1)},
  {"question": "Broken?", "answer": },
  {"question": "Q?", "answer": ["not", "a", "string"]},
  ${good(2)},,
  "just a string"
]`;

  it('reports element index and starting line', async () => {
    const { trajectories, summary } = await importFile(new Blob([text]), { file: 'arr.json' });
    expect(trajectories.map((t) => t.id)).toEqual(['arr.json[0]', 'arr.json[3]']);
    expect(trajectories.map((t) => t.meta)).toEqual([{ file: 'arr.json', line: 2, index: 0 }, { file: 'arr.json', line: 5, index: 3 }]);
    expect(summary.rejections.map((r) => [r.index, r.line, r.code])).toEqual([
      [1, 3, 'invalid-json'],
      [2, 4, 'wrong-type'],
      [4, 5, 'invalid-json'],
      [5, 6, 'wrong-type'],
    ]);
    expect(formatRejection(summary.rejections[1])).toBe('arr.json line 4 (element 2): "answer" must be a string, got array');
    expect(summary).toMatchObject({ rows: 6, kept: 2, rejected: 4 });
  });

  it('rejects a trailing comma, an over-long element, and reads nested brackets and escaped quotes', async () => {
    const nested = JSON.stringify({ question: 'He said "[{,}]" \\ ok?', answer: '1 ] } , [ {\n#### 1' });
    const big = JSON.stringify({ question: 'Big?', answer: 'y'.repeat(3000) + '\n#### 1' });
    const { trajectories, summary } = await importFile(new Blob([`[${nested}, ${big}, ${good(3)},]`]), { file: 'b.json', maxRecordBytes: 2000 });
    expect(trajectories.map((t) => t.question)).toEqual(['He said "[{,}]" \\ ok?', 'Ann has 3 pens and buys 2 more. How many now?']);
    expect(summary.rejections.map((r) => [r.index, r.code])).toEqual([[1, 'too-long'], [3, 'invalid-json']]);
  });

  it('splits the same whatever the chunk boundaries (escapes, brackets and commas inside strings)', async () => {
    const tricky = JSON.stringify({ question: 'Say "[1,2]" or \\"{a}\\"?', answer: 'x\\", ] },\n#### 1' });
    const bytes = utf8(`[${tricky},\n${text.slice(1, -1)},\n${tricky}\n]`);
    const whole = await importFile(chunked(bytes, bytes.length), { file: 'c.json' });
    expect(whole.summary).toMatchObject({ rows: 8, kept: 3, rejected: 5 });
    expect(whole.trajectories[0].question).toBe('Say "[1,2]" or \\"{a}\\"?');
    for (const size of [1, 2, 3, 5, 8]) expect(await importFile(chunked(bytes, size), { file: 'c.json' })).toEqual(whole);
  });

  it('a real pretty-printed array reads the same in odd-sized chunks', async () => {
    const bytes = new Uint8Array(await readFile(dataPath('plan-tuning/gsm8k_test_methods.json')));
    const whole = await importFile(chunked(bytes, bytes.length), { file: 'm.json' });
    expect(whole.summary.kept).toBe(1319);
    expect(await importFile(chunked(bytes, 997), { file: 'm.json' })).toEqual(whole);
  });

  it('a truncated array keeps the complete elements and reports the file as truncated', async () => {
    const { trajectories, summary } = await importFile(new Blob([`[${good(1)},\n${good(2)},\n{"question": "cut`]), { file: 'cut.json' });
    expect(trajectories).toHaveLength(2);
    expect(summary.fileErrors).toEqual([
      { scope: 'file', code: 'truncated', file: 'cut.json', line: 3, reason: 'the file ends inside element 2 (line 3) before the closing "]"; is it truncated?' },
    ]);
    expect(summary).toMatchObject({ rows: 2, kept: 2, rejected: 0 });
  });

  it('content after the closing bracket is a file error', async () => {
    const { trajectories, summary } = await importFile(new Blob([`[${good(1)}]\n[${good(2)}]`]), { file: 'two.json' });
    expect(trajectories).toHaveLength(1);
    expect(summary.fileErrors.map((e) => [e.code, e.line])).toEqual([['trailing-content', 2]]);
  });
});

describe('whole-file problems', () => {
  it.each([
    ['an empty file', new Uint8Array(0), 'empty-file', 'the file is empty'],
    ['a whitespace-only file', utf8(' \n\n\t\n'), 'empty-file', 'the file holds only whitespace'],
    ['a binary file', Uint8Array.of(0x7b, 0x22, 0x00, 0x01, 0x02, 0x89, 0x50, 0x4e, 0x47), 'binary-file', 'the file is binary, not text (NUL byte at offset 2)'],
    ['a UTF-16 file', Uint8Array.of(0xff, 0xfe, 0x7b, 0x00), 'unsupported-encoding', 'the file is UTF-16 encoded; save it as UTF-8'],
    ['a gzip file', Uint8Array.of(0x1f, 0x8b, 0x08, 0x00), 'unsupported-encoding', 'the file is gzip-compressed; decompress it first'],
    ['a CSV file', utf8('question,answer\nWhy?,#### 1\n'), 'not-json', 'the file starts with "question,answer", not JSON: expected JSON Lines (one {…} per line) or a JSON array […]'],
  ])('%s', async (_, bytes, code, reason) => {
    const { trajectories, summary } = await importFile(chunked(bytes, 3), { file: 'f' });
    expect(trajectories).toEqual([]);
    expect(summary.fileErrors).toEqual([{ scope: 'file', code, reason, file: 'f' }]);
    expect(summary).toMatchObject({ rows: 0, kept: 0, rejected: 0 });
  });

  it('looks past more leading whitespace than the sniffed head', async () => {
    const bytes = utf8(`${' \n'.repeat(6000)}${good(1)}\n`);
    const { trajectories, summary } = await importFile(chunked(bytes, 1000), { file: 'ws.jsonl' });
    expect(summary).toMatchObject({ rows: 1, kept: 1, fileErrors: [] });
    expect(trajectories[0].id).toBe('ws.jsonl:6001');
  });

  it('skips a UTF-8 byte-order mark and reads CRLF line endings', async () => {
    const bytes = concatBytes(Uint8Array.of(0xef, 0xbb, 0xbf), utf8(`${good(1)}\r\n${good(2)}\r\n`));
    const { trajectories, summary } = await importFile(chunked(bytes, 5), { file: 'bom.jsonl' });
    expect(summary.rejected).toBe(0);
    expect(trajectories.map((t) => t.finalAnswer.value)).toEqual([3, 4]);
  });

  it('takes the file name from a File', async () => {
    const { summary } = await importFile(new File([good(1)], 'named.jsonl'));
    expect(summary).toMatchObject({ file: 'named.jsonl', kept: 1 });
  });
});

describe('format detection and override', () => {
  it('rejects unrecognisable records until one is recognised, then reads the rest in that format', async () => {
    const { trajectories, summary } = await importFile(new Blob([`{"foo": 1}\n${good(1)}\n${good(2)}\n`]), { file: 'x.jsonl' });
    expect(trajectories).toHaveLength(2);
    expect(summary.rejections).toHaveLength(1);
    expect(summary.rejections[0]).toMatchObject({ line: 1, code: 'unknown-format' });
    expect(summary.rejections[0].reason).toMatch(/^no known trajectory format has the keys \{foo\}/);
    expect(summary).toMatchObject({ format: 'gsm8k', formatDetected: true });
  });

  it('an override wins over detection', async () => {
    const { summary } = await importFile(new Blob([`${good(1)}\n`]), { file: 'x.jsonl', format: 'gsm8k-socratic' });
    expect(summary).toMatchObject({ format: 'gsm8k-socratic', formatDetected: false, kept: 0 });
    expect(summary.rejections[0]).toMatchObject({ code: 'malformed-plan', reason: 'step 1 is not "sub-question ** step": "1+2=<<1+2=3>>3"' });
  });

  it('lists at most maxListed rejections but counts them all', async () => {
    const { summary } = await importFile(new Blob(['{"question": 1}\n'.repeat(30)]), { file: 'x.jsonl', format: 'gsm8k', maxListed: 10 });
    expect(summary).toMatchObject({ rows: 30, rejected: 30, rejectionsNotListed: 20 });
    expect(summary.rejections).toHaveLength(10);
  });
});
