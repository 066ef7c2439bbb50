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
    __plantuneWriteFile(path: string, base64: string): Promise<void>;
    __plantuneReadFile(path: string): Promise<string>;
  }
}

function toBase64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

export async function runHeadless(main: HeadlessMain, args: string[]): Promise<number> {
  const ctx: HeadlessContext = {
    args,
    log: (line) => void window.__plantuneLog(line),
    readFile: async (path) => Uint8Array.from(atob(await window.__plantuneReadFile(path)), (c) => c.charCodeAt(0)),
    writeFile: (path, data) => window.__plantuneWriteFile(path, toBase64(typeof data === 'string' ? new TextEncoder().encode(data) : data)),
  };
  try {
    return (await main(ctx)) ?? 0;
  } catch (e) {
    await window.__plantuneLog(`error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    return 1;
  }
}
