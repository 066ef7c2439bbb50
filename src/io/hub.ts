// Loading a model from the Hugging Face hub by repo id, when the user is online:
//   https://huggingface.co/{repo}/resolve/{revision}/{file}
// config.json and tokenizer.json (required), tokenizer_config.json and
// generation_config.json (when present), then the weights: model.safetensors, or
// model.safetensors.index.json and its shards. Bodies are streamed so progress can be
// shown byte by byte; an AbortSignal stops everything.
//
// The fetch function is injectable: tests serve files from memory (this workplace
// has no network), the page uses the global fetch. A token, when given, goes only in
// the Authorization header; it is never put in a URL, a message or a log.
import { INDEX_FILE, SINGLE_FILE, openSharded, parseShardIndex } from './sharded';
import { type WeightSource, readSafetensors } from './safetensors';

export const HUB_ENDPOINT = 'https://huggingface.co';

export type FetchLike = (url: string, init?: RequestInit) => Promise<Response>;

export interface HubProgress {
  /** File being downloaded (path inside the repo). */
  file: string;
  /** Bytes of this file received so far. */
  fileLoaded: number;
  /** This file's size from Content-Length; null when the server did not say (or sent it compressed). */
  fileTotal: number | null;
  /** Bytes received so far, all files of this load. Never decreases. */
  loaded: number;
  /**
   * Bytes expected, all files started so far (each file counts its Content-Length, or
   * its bytes so far when unknown). Grows as files start; `loaded <= total` always, and
   * the last event (done = true) has loaded === total.
   */
  total: number;
  /** True on the very last event of the load. */
  done: boolean;
}

export interface HubOptions {
  /** Branch, tag or commit (default "main"). */
  revision?: string;
  /** Hugging Face access token, for gated or private repos. */
  token?: string;
  /** Injected fetch (default: the global fetch). */
  fetch?: FetchLike;
  signal?: AbortSignal;
  onProgress?: (p: HubProgress) => void;
  /** Hub base URL (default https://huggingface.co; a mirror may be given). */
  endpoint?: string;
}

export type HubErrorKind = 'not-found' | 'unauthorized' | 'network' | 'http' | 'bad-file' | 'bad-repo-id';

export class HubError extends Error {
  constructor(
    readonly kind: HubErrorKind,
    message: string,
    readonly url?: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'HubError';
  }
}

export interface HubModel {
  repo: string;
  revision: string;
  /** Every downloaded file by its path in the repo. */
  files: Map<string, Blob>;
  /** config.json, parsed. */
  config: Record<string, unknown>;
  /** The weights: one safetensors file or the sharded checkpoint. */
  weights: WeightSource;
  /** Total bytes downloaded. */
  bytes: number;
}

const REPO_ID = /^[A-Za-z0-9][\w.-]*(\/[A-Za-z0-9][\w.-]*)?$/;

/** The resolve URL of a file in a repo. */
export function hubFileUrl(repo: string, file: string, revision = 'main', endpoint = HUB_ENDPOINT): string {
  if (!REPO_ID.test(repo) || repo.includes('..')) {
    throw new HubError('bad-repo-id', `"${repo}" is not a Hugging Face repo id (expected "owner/name", e.g. "HuggingFaceTB/SmolLM2-135M")`);
  }
  const path = file.split('/').map(encodeURIComponent).join('/');
  return `${endpoint.replace(/\/+$/, '')}/${repo}/resolve/${encodeURIComponent(revision)}/${path}`;
}

/** Tracks bytes across the files of one load and emits HubProgress events. */
class ProgressTracker {
  private loadedDone = 0; // bytes of finished files
  private totalDone = 0;
  private last = { file: '', fileLoaded: 0, fileTotal: 0 as number | null };
  constructor(private readonly cb?: (p: HubProgress) => void) {}

  get bytes(): number {
    return this.loadedDone;
  }

  emit(file: string, fileLoaded: number, fileTotal: number | null, done = false): void {
    this.last = { file, fileLoaded, fileTotal };
    if (!this.cb) return;
    this.cb({
      file,
      fileLoaded,
      fileTotal,
      loaded: this.loadedDone + fileLoaded,
      total: this.totalDone + Math.max(fileTotal ?? 0, fileLoaded),
      done,
    });
  }

  finish(fileLoaded: number): void {
    this.loadedDone += fileLoaded;
    this.totalDone += fileLoaded;
  }

  done(): void {
    if (this.cb) this.cb({ ...this.last, loaded: this.loadedDone, total: this.totalDone, done: true });
  }
}

function isAbort(e: unknown, signal?: AbortSignal): boolean {
  return !!signal?.aborted || (e instanceof Error && e.name === 'AbortError');
}

function statusError(res: Response, url: string, repo: string, file: string, revision: string, hasToken: boolean): HubError {
  const code = res.headers.get('x-error-code'); // RepoNotFound, EntryNotFound, RevisionNotFound, GatedRepo
  const where = `"${file}" in "${repo}" at revision "${revision}"`;
  if (res.status === 404) {
    const detail =
      code === 'RevisionNotFound'
        ? `revision "${revision}" does not exist`
        : code === 'EntryNotFound'
          ? `the repo has no file "${file}"`
          : 'check the repo id and revision; a private repo also needs a token';
    return new HubError('not-found', `Hugging Face hub: repo or file not found: ${where} (HTTP 404: ${detail})`, url, 404);
  }
  if (res.status === 401 || res.status === 403) {
    const msg = hasToken
      ? `Hugging Face hub: access to ${where} denied with the given token (HTTP ${res.status}): ` +
        `the repo is gated or private — accept its terms on ${HUB_ENDPOINT}/${repo} with the token's account, and use a token with read access`
      : `Hugging Face hub: ${where} needs a token (HTTP ${res.status}): the repo is gated or private` +
        (code === 'GatedRepo' ? '' : ' (or the repo id is misspelled)') +
        ` — accept its terms on ${HUB_ENDPOINT}/${repo} and give a Hugging Face access token`;
    return new HubError('unauthorized', msg, url, res.status);
  }
  if (res.status === 429) return new HubError('http', `Hugging Face hub: rate limited fetching ${where} (HTTP 429): wait a minute and retry`, url, 429);
  return new HubError('http', `Hugging Face hub: fetching ${where} failed: HTTP ${res.status} ${res.statusText}`.trim(), url, res.status);
}

/**
 * Downloads one file of a repo as a Blob, streaming its body through progress events.
 * With `optional`, a 404 returns null instead of throwing.
 */
async function download(
  repo: string,
  file: string,
  opts: HubOptions,
  tracker: ProgressTracker,
  optional: boolean,
): Promise<Blob | null> {
  const revision = opts.revision ?? 'main';
  const url = hubFileUrl(repo, file, revision, opts.endpoint);
  const doFetch: FetchLike = opts.fetch ?? ((u, init) => fetch(u, init));
  const signal = opts.signal;
  signal?.throwIfAborted();
  const headers: Record<string, string> = {};
  if (opts.token) headers.Authorization = `Bearer ${opts.token}`;

  let res: Response;
  try {
    res = await doFetch(url, { headers, signal, redirect: 'follow' });
  } catch (e) {
    if (isAbort(e, signal)) throw signal?.reason ?? e;
    throw new HubError('network', `Hugging Face hub: could not reach ${url}: offline? (${(e as Error).message ?? e})`, url);
  }
  if (!res.ok) {
    if (optional && res.status === 404) {
      await res.body?.cancel().catch(() => undefined);
      return null;
    }
    await res.body?.cancel().catch(() => undefined);
    throw statusError(res, url, repo, file, revision, !!opts.token);
  }

  // Content-Length counts encoded bytes; with a Content-Encoding the body we read is
  // decoded, so the length tells nothing about it.
  const lenHeader = res.headers.get('content-length');
  const encoded = (res.headers.get('content-encoding') ?? 'identity') !== 'identity';
  const parsed = lenHeader !== null && /^\d+$/.test(lenHeader) ? Number(lenHeader) : null;
  const fileTotal = encoded ? null : parsed;

  const chunks: Uint8Array<ArrayBuffer>[] = [];
  let received = 0;
  tracker.emit(file, 0, fileTotal);
  if (!res.body) {
    const blob = await res.blob();
    received = blob.size;
    chunks.push(new Uint8Array(await blob.arrayBuffer()));
  } else {
    const reader = res.body.getReader();
    try {
      while (true) {
        let r: ReadableStreamReadResult<Uint8Array>;
        try {
          r = await reader.read();
        } catch (e) {
          if (isAbort(e, signal)) throw signal?.reason ?? e;
          throw new HubError('network', `Hugging Face hub: download of ${url} interrupted after ${received} bytes: offline? (${(e as Error).message ?? e})`, url);
        }
        if (r.done) break;
        signal?.throwIfAborted();
        chunks.push(r.value as Uint8Array<ArrayBuffer>);
        received += r.value.byteLength;
        if (fileTotal !== null && received > fileTotal) {
          throw new HubError('network', `Hugging Face hub: ${url} sent more bytes (${received}) than its Content-Length (${fileTotal})`, url);
        }
        tracker.emit(file, received, fileTotal);
      }
    } catch (e) {
      await reader.cancel().catch(() => undefined);
      throw e;
    }
  }
  if (fileTotal !== null && received !== fileTotal) {
    throw new HubError('network', `Hugging Face hub: download of ${url} ended after ${received} of ${fileTotal} bytes: connection dropped, offline?`, url);
  }
  tracker.emit(file, received, received);
  tracker.finish(received);
  return new Blob(chunks);
}

/** Downloads one file of a repo (throws HubError on 404 and every other failure). */
export async function fetchHubFile(repo: string, file: string, opts: HubOptions = {}): Promise<Blob> {
  const tracker = new ProgressTracker(opts.onProgress);
  const blob = (await download(repo, file, opts, tracker, false))!;
  tracker.done();
  return blob;
}

async function parseJson(blob: Blob, repo: string, file: string): Promise<Record<string, unknown>> {
  const text = await blob.text();
  try {
    const v: unknown = JSON.parse(text);
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new HubError('bad-file', `Hugging Face hub: ${repo}/${file} is not a JSON object (a login page or a proxy error instead of the file?)`);
}

/**
 * Loads a model by repo id: config, tokenizer files, and the safetensors weights
 * (single file or sharded). Files are fetched one after another, each streamed.
 */
export async function loadHubModel(repo: string, opts: HubOptions = {}): Promise<HubModel> {
  const revision = opts.revision ?? 'main';
  hubFileUrl(repo, 'config.json', revision, opts.endpoint); // validates the repo id before any request
  const tracker = new ProgressTracker(opts.onProgress);
  const files = new Map<string, Blob>();
  const get = async (file: string, optional: boolean): Promise<Blob | null> => {
    const blob = await download(repo, file, opts, tracker, optional);
    if (blob) files.set(file, blob);
    return blob;
  };

  const configBlob = (await get('config.json', false))!;
  const config = await parseJson(configBlob, repo, 'config.json');
  const tok = await get('tokenizer.json', true);
  if (!tok) {
    throw new HubError(
      'not-found',
      `Hugging Face hub: "${repo}" has no tokenizer.json at revision "${revision}": Plantune needs the fast-tokenizer file ` +
        '(repos with only tokenizer.model / vocab.json need converting with transformers first)',
    );
  }
  await get('tokenizer_config.json', true);
  await get('generation_config.json', true);

  let weights: WeightSource;
  const single = await get(SINGLE_FILE, true);
  if (single) {
    weights = await readSafetensors(single, `${repo}/${SINGLE_FILE}`);
  } else {
    const indexBlob = await get(INDEX_FILE, true);
    if (!indexBlob) {
      throw new HubError(
        'not-found',
        `Hugging Face hub: "${repo}" at revision "${revision}" has neither ${SINGLE_FILE} nor ${INDEX_FILE}: ` +
          'Plantune loads safetensors weights only (PyTorch .bin pickles cannot be read safely in a browser)',
      );
    }
    const index = parseShardIndex(await indexBlob.text(), `${repo}/${INDEX_FILE}`);
    for (const shard of new Set(Object.values(index.weight_map))) await get(shard, false);
    weights = await openSharded(index, files, `${repo}/${INDEX_FILE}`);
  }
  tracker.done();
  return { repo, revision, files, config, weights, bytes: tracker.bytes };
}
