// Large inputs stream: rows come out while the input is still being produced, and the reader never
// runs more than a chunk or two ahead of the row it yields, so memory does not grow with the file.

import { describe, expect, it } from 'vitest';
import { readTrajectories } from '../../src/data/read';
import { streamImport } from '../../src/data/validate';

const CHUNK = 64 * 1024;
const encoder = new TextEncoder();

const gsm8kRow = (i: number): string =>
  JSON.stringify({
    question: `Row ${i}: Ann has ${i % 97} pens. She buys ${i % 13} more pens. How many pens does Ann have now?`,
    answer: `Ann has ${i % 97} + ${i % 13} = <<${i % 97}+${i % 13}=${(i % 97) + (i % 13)}>>${(i % 97) + (i % 13)} pens.\n#### ${(i % 97) + (i % 13)}`,
  });

/**
 * Produces `totalBytes` of records as CHUNK-sized byte chunks, lazily, cutting records at arbitrary
 * chunk boundaries. `ends[i]` is the byte offset where record i ends; `produced()` how many bytes were handed out.
 */
function source(totalBytes: number, record: (i: number) => string, open = '', separator = '\n', close = '') {
  const ends: number[] = [];
  let produced = 0;
  async function* chunks(): AsyncGenerator<Uint8Array> {
    let carry = new Uint8Array(0);
    let text = open;
    let offset = open.length;
    const flush = (final: boolean): Uint8Array[] => {
      const encoded = encoder.encode(text);
      text = '';
      const bytes = new Uint8Array(carry.length + encoded.length);
      bytes.set(carry);
      bytes.set(encoded, carry.length);
      const whole = final ? bytes.length : bytes.length - (bytes.length % CHUNK);
      const out: Uint8Array[] = [];
      for (let at = 0; at < whole; at += CHUNK) out.push(bytes.slice(at, Math.min(at + CHUNK, whole)));
      carry = bytes.slice(whole);
      return out;
    };
    for (let i = 0; offset < totalBytes; i++) {
      const piece = (i > 0 ? separator : '') + record(i);
      text += piece;
      offset += piece.length; // ASCII records: characters = bytes
      ends.push(offset);
      if (text.length >= CHUNK) {
        for (const chunk of flush(false)) {
          produced += chunk.length;
          yield chunk;
        }
      }
    }
    text += close;
    for (const chunk of flush(true)) {
      produced += chunk.length;
      yield chunk;
    }
  }
  return { chunks, ends, produced: () => produced };
}

describe('streaming', () => {
  it('reads 20 MB of JSONL from an async iterable without running ahead of the rows', async () => {
    const src = source(20 * 1024 * 1024, gsm8kRow);
    const started = performance.now();
    let rows = 0;
    let wrong = 0;
    let maxLead = 0;
    for await (const event of readTrajectories(src.chunks(), { file: 'big.jsonl' })) {
      if (event.kind === 'rejection') throw new Error(`unexpected rejection: ${event.rejection.reason}`);
      if (event.kind !== 'row') continue;
      maxLead = Math.max(maxLead, src.produced() - src.ends[rows]);
      if (event.trajectory.finalAnswer.value !== (rows % 97) + (rows % 13)) wrong++;
      rows++;
    }
    expect(wrong).toBe(0);
    const seconds = (performance.now() - started) / 1000;
    console.log(`20 MB JSONL: ${rows} rows in ${seconds.toFixed(2)} s; reader at most ${maxLead} bytes ahead of the row it yielded`);
    expect(rows).toBe(src.ends.length);
    expect(rows).toBeGreaterThan(50_000);
    expect(maxLead).toBeLessThanOrEqual(2 * CHUNK);
  });

  it('reads a 3 MB JSON array element by element, with duplicate checks, without running ahead', async () => {
    const src = source(3 * 1024 * 1024, gsm8kRow, '[\n', ',\n', '\n]');
    const events = streamImport(src.chunks(), { file: 'big.json' });
    let rows = 0;
    let maxLead = 0;
    for (;;) {
      const next = await events.next();
      if (next.done) {
        expect(next.value).toMatchObject({ rows, kept: rows, rejected: 0, fileErrors: [], format: 'gsm8k' });
        break;
      }
      if (next.value.kind !== 'row') throw new Error(`unexpected rejection: ${next.value.rejection.reason}`);
      maxLead = Math.max(maxLead, src.produced() - src.ends[rows]);
      rows++;
    }
    expect(rows).toBe(src.ends.length);
    expect(maxLead).toBeLessThanOrEqual(2 * CHUNK);
  });
});
