// The browser side of scripts/run-in-browser.mjs: gives a headless module a log and a file writer
// that reach the terminal and the local disk, and turns its outcome into an exit code.

export interface HeadlessContext {
  args: string[];
  /** One line to the terminal. */
  log(line: string): void;
  /** Reads a file on the machine running the CLI (paths relative to the project root). */
  readFile(path: string): Promise<Uint8Array<ArrayBuffer>>;
  /** Writes a file on the machine running the CLI (paths relative to the project root). */
  writeFile(path: string, data: Uint8Array | string): Promise<void>;
}

export type HeadlessMain = (ctx: HeadlessContext) => Promise<number | void>;

declare global {
  interface Window {
    __plantuneLog(line: string): Promise<void>;
    /** Writes (append = false) or appends bytes given in base64. */
    __plantuneWriteFile(path: string, base64: string, append: boolean): Promise<void>;
    __plantuneFileSize(path: string): Promise<number>;
    /** Bytes [start, end) of a file, in base64. */
    __plantuneReadFileRange(path: string, start: number, end: number): Promise<string>;
  }
}

function toBase64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

// Files cross to and from the terminal's side in pieces: a model's weights may be gigabytes, more than one string holds.
const CHUNK = 16 * 2 ** 20;

async function readFile(path: string): Promise<Uint8Array<ArrayBuffer>> {
  const size = await window.__plantuneFileSize(path);
  const out = new Uint8Array(size);
  for (let at = 0; at < size; at += CHUNK) {
    const piece = atob(await window.__plantuneReadFileRange(path, at, Math.min(size, at + CHUNK)));
    for (let i = 0; i < piece.length; i++) out[at + i] = piece.charCodeAt(i);
  }
  return out;
}

async function writeFile(path: string, data: Uint8Array | string): Promise<void> {
  const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
  for (let at = 0; at === 0 || at < bytes.length; at += CHUNK) await window.__plantuneWriteFile(path, toBase64(bytes.subarray(at, at + CHUNK)), at > 0);
}

export async function runHeadless(main: HeadlessMain, args: string[]): Promise<number> {
  const ctx: HeadlessContext = {
    args,
    log: (line) => void window.__plantuneLog(line),
    readFile,
    writeFile,
  };
  try {
    return (await main(ctx)) ?? 0;
  } catch (e) {
    await window.__plantuneLog(`error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    return 1;
  }
}
