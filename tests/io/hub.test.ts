// Hub loader against a fake fetch that serves repo files from memory, streamed in
// chunks with Content-Length, honouring the AbortSignal — no network.
import { describe, expect, it } from 'vitest';
import { type FetchLike, HubError, type HubProgress, fetchHubFile, hubFileUrl, loadHubModel } from '../../src/io/hub';
import { writeSafetensors } from '../../src/io/safetensors';

const ENC = new TextEncoder();

interface FakeFile {
  body: Uint8Array;
  /** Content-Length to send (default: the true length); null = none. */
  contentLength?: number | null;
  /** Bytes actually sent before the stream ends (to fake a dropped connection). */
  cutAt?: number;
}

interface Served {
  status?: number;
  errorCode?: string;
}

/**
 * A fetch serving `https://huggingface.co/{repo}/resolve/{rev}/{file}` from `repos`
 * (key "repo@rev/file"). Bodies arrive in `chunk`-byte pieces, one per microtask turn.
 */
function fakeHub(repos: Record<string, FakeFile | Served>, opts: { chunk?: number; requireToken?: string; offline?: boolean } = {}) {
  const requests: { url: string; headers: Record<string, string> }[] = [];
  const fetchFn: FetchLike = async (url, init) => {
    const headers = { ...((init?.headers ?? {}) as Record<string, string>) };
    requests.push({ url, headers });
    const signal = init?.signal ?? undefined;
    if (signal?.aborted) throw signal.reason;
    if (opts.offline) throw new TypeError('fetch failed');
    const m = /^https:\/\/huggingface\.co\/(.+)\/resolve\/([^/]+)\/(.+)$/.exec(url);
    if (!m) return new Response('bad url', { status: 400 });
    const [, repo, rev, file] = m;
    if (opts.requireToken && headers.Authorization !== `Bearer ${opts.requireToken}`) {
      return new Response('gated', { status: headers.Authorization ? 403 : 401, headers: { 'x-error-code': 'GatedRepo' } });
    }
    const key = `${repo}@${decodeURIComponent(rev)}/${decodeURIComponent(file)}`;
    const entry = repos[key];
    if (!entry) {
      const repoKnown = Object.keys(repos).some((k) => k.startsWith(`${repo}@`));
      return new Response('not found', { status: 404, headers: { 'x-error-code': repoKnown ? 'EntryNotFound' : 'RepoNotFound' } });
    }
    if ('status' in entry && entry.status) {
      return new Response('nope', { status: entry.status, headers: entry.errorCode ? { 'x-error-code': entry.errorCode } : {} });
    }
    const f = entry as FakeFile;
    const chunk = opts.chunk ?? 1000;
    const end = f.cutAt ?? f.body.length;
    let pos = 0;
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        signal?.addEventListener('abort', () => controller.error(signal.reason), { once: true });
      },
      async pull(controller) {
        await Promise.resolve();
        if (signal?.aborted) return;
        if (pos >= end) {
          controller.close();
          return;
        }
        controller.enqueue(f.body.slice(pos, Math.min(end, pos + chunk)));
        pos += chunk;
      },
    });
    const h: Record<string, string> = {};
    const len = f.contentLength === undefined ? f.body.length : f.contentLength;
    if (len !== null) h['content-length'] = String(len);
    return new Response(stream, { status: 200, headers: h });
  };
  return { fetch: fetchFn, requests };
}

function json(o: unknown): FakeFile {
  return { body: ENC.encode(JSON.stringify(o)) };
}

async function bytesOf(b: Blob): Promise<Uint8Array> {
  return new Uint8Array(await b.arrayBuffer());
}

const REPO = 'tiny-org/tiny-llama';
const weights = writeSafetensors([
  { name: 'model.embed_tokens.weight', shape: [50, 40], dtype: 'F32', data: new Float32Array(2000).map((_, i) => i) },
  { name: 'model.norm.weight', shape: [40], dtype: 'BF16', data: new Float32Array(40).fill(1) },
]);

async function singleRepo(rev = 'main'): Promise<Record<string, FakeFile>> {
  return {
    [`${REPO}@${rev}/config.json`]: json({ model_type: 'llama', hidden_size: 40 }),
    [`${REPO}@${rev}/tokenizer.json`]: json({ model: { type: 'BPE' } }),
    [`${REPO}@${rev}/tokenizer_config.json`]: json({ bos_token: '<s>' }),
    [`${REPO}@${rev}/model.safetensors`]: { body: await bytesOf(weights) },
  };
}

function checkProgress(events: HubProgress[], expectedTotal: number) {
  expect(events.length).toBeGreaterThan(3);
  for (let i = 1; i < events.length; i++) expect(events[i].loaded).toBeGreaterThanOrEqual(events[i - 1].loaded);
  for (const e of events) {
    expect(e.loaded).toBeLessThanOrEqual(e.total);
    if (e.fileTotal !== null) expect(e.fileLoaded).toBeLessThanOrEqual(e.fileTotal);
  }
  const last = events[events.length - 1];
  expect(last.done).toBe(true);
  expect(events.filter((e) => e.done).length).toBe(1);
  expect(last.loaded).toBe(expectedTotal);
  expect(last.total).toBe(expectedTotal);
}

describe('hub URLs', () => {
  it('builds resolve URLs and rejects bad repo ids', () => {
    expect(hubFileUrl('gpt2', 'config.json')).toBe('https://huggingface.co/gpt2/resolve/main/config.json');
    expect(hubFileUrl('a/b', 'sub dir/x.json', 'refs/pr/1')).toBe('https://huggingface.co/a/b/resolve/refs%2Fpr%2F1/sub%20dir/x.json');
    expect(hubFileUrl('a/b', 'c.json', 'main', 'https://mirror.example/')).toBe('https://mirror.example/a/b/resolve/main/c.json');
    for (const bad of ['', 'a/b/c', '../etc', 'a b/c', 'https://huggingface.co/a/b']) {
      expect(() => hubFileUrl(bad, 'config.json')).toThrow(/not a Hugging Face repo id/);
    }
  });
});

describe('loadHubModel', () => {
  it('loads a single-file repo with monotonic progress ending at the total', async () => {
    const repo = await singleRepo();
    const hub = fakeHub(repo, { chunk: 777 });
    const events: HubProgress[] = [];
    const m = await loadHubModel(REPO, { fetch: hub.fetch, onProgress: (p) => events.push(p) });
    const total = Object.values(repo).reduce((n, f) => n + f.body.length, 0);
    checkProgress(events, total);
    expect(m.bytes).toBe(total);
    expect(m.config).toEqual({ model_type: 'llama', hidden_size: 40 });
    expect([...m.files.keys()]).toEqual(['config.json', 'tokenizer.json', 'tokenizer_config.json', 'model.safetensors']);
    expect(m.weights.names).toEqual(['model.embed_tokens.weight', 'model.norm.weight']);
    const emb = await m.weights.get('model.embed_tokens.weight').float32();
    expect(emb[1999]).toBe(1999);
    // generation_config.json was asked for and absent: not an error.
    expect(hub.requests.map((r) => r.url.split('/').pop())).toContain('generation_config.json');
    // Per-file events of the weights file go up to its size.
    const w = events.filter((e) => e.file === 'model.safetensors' && !e.done);
    expect(w[w.length - 1].fileLoaded).toBe(weights.size);
    expect(w.every((e) => e.fileTotal === weights.size)).toBe(true);
  });

  it('loads a sharded repo at a revision, sending the token', async () => {
    const rev = 'v1.0';
    const s1 = writeSafetensors([{ name: 'a', shape: [3], dtype: 'F32', data: new Float32Array([1, 2, 3]) }]);
    const s2 = writeSafetensors([{ name: 'b', shape: [2], dtype: 'F16', data: new Float32Array([4, 5]) }]);
    const repo: Record<string, FakeFile> = {
      [`${REPO}@${rev}/config.json`]: json({ model_type: 'llama' }),
      [`${REPO}@${rev}/tokenizer.json`]: json({}),
      [`${REPO}@${rev}/model.safetensors.index.json`]: json({ metadata: {}, weight_map: { a: 'model-1.safetensors', b: 'model-2.safetensors' } }),
      [`${REPO}@${rev}/model-1.safetensors`]: { body: await bytesOf(s1) },
      [`${REPO}@${rev}/model-2.safetensors`]: { body: await bytesOf(s2), contentLength: null }, // no Content-Length
    };
    const hub = fakeHub(repo, { chunk: 16, requireToken: 'hf_secret' });
    const events: HubProgress[] = [];
    const m = await loadHubModel(REPO, { fetch: hub.fetch, revision: rev, token: 'hf_secret', onProgress: (p) => events.push(p) });
    checkProgress(events, Object.values(repo).reduce((n, f) => n + f.body.length, 0));
    expect(events.some((e) => e.file === 'model-2.safetensors' && e.fileTotal === null)).toBe(true);
    expect([...(await m.weights.get('b').float32())]).toEqual([4, 5]);
    expect([...(await m.weights.get('a').float32())]).toEqual([1, 2, 3]);
    expect(hub.requests.every((r) => r.headers.Authorization === 'Bearer hf_secret')).toBe(true);
    expect(hub.requests.every((r) => !r.url.includes('hf_secret') && r.url.includes('/resolve/v1.0/'))).toBe(true);
  });

  it('404: repo or file not found', async () => {
    const hub = fakeHub({});
    const err = await loadHubModel('nobody/nothing', { fetch: hub.fetch }).catch((e) => e);
    expect(err).toBeInstanceOf(HubError);
    expect(err.kind).toBe('not-found');
    expect(err.status).toBe(404);
    expect(err.message).toMatch(/repo or file not found: "config\.json" in "nobody\/nothing" at revision "main"/);

    const noWeights = await singleRepo();
    delete noWeights[`${REPO}@main/model.safetensors`];
    await expect(loadHubModel(REPO, { fetch: fakeHub(noWeights).fetch })).rejects.toThrow(/has neither model\.safetensors nor model\.safetensors\.index\.json/);

    const noTok = await singleRepo();
    delete noTok[`${REPO}@main/tokenizer.json`];
    await expect(loadHubModel(REPO, { fetch: fakeHub(noTok).fetch })).rejects.toThrow(/has no tokenizer\.json/);

    await expect(fetchHubFile(REPO, 'missing.txt', { fetch: fakeHub(await singleRepo()).fetch })).rejects.toThrow(
      /repo or file not found.*the repo has no file "missing\.txt"/,
    );
  });

  it('401/403: gated repo needs a token, and the token never appears in the message', async () => {
    const repo = await singleRepo();
    const hub = fakeHub(repo, { requireToken: 'hf_right' });
    const e401 = await loadHubModel(REPO, { fetch: hub.fetch }).catch((e) => e);
    expect(e401).toBeInstanceOf(HubError);
    expect(e401.kind).toBe('unauthorized');
    expect(e401.status).toBe(401);
    expect(e401.message).toMatch(/needs a token \(HTTP 401\): the repo is gated or private/);

    const e403 = await loadHubModel(REPO, { fetch: hub.fetch, token: 'hf_wrong_secret' }).catch((e) => e);
    expect(e403.kind).toBe('unauthorized');
    expect(e403.status).toBe(403);
    expect(e403.message).toMatch(/denied with the given token \(HTTP 403\)/);
    expect(e403.message).not.toContain('hf_wrong_secret');
    expect(String(e403.stack)).not.toContain('hf_wrong_secret');
  });

  it('network failure: offline?', async () => {
    const err = await loadHubModel(REPO, { fetch: fakeHub({}, { offline: true }).fetch }).catch((e) => e);
    expect(err).toBeInstanceOf(HubError);
    expect(err.kind).toBe('network');
    expect(err.message).toMatch(/could not reach https:\/\/huggingface\.co\/tiny-org\/tiny-llama\/resolve\/main\/config\.json: offline\?/);
  });

  it('a body cut short of its Content-Length fails', async () => {
    const repo = await singleRepo();
    repo[`${REPO}@main/model.safetensors`].cutAt = 100;
    await expect(loadHubModel(REPO, { fetch: fakeHub(repo).fetch })).rejects.toThrow(/ended after 100 of \d+ bytes: connection dropped, offline\?/);
  });

  it('other HTTP errors and non-JSON config', async () => {
    const repo: Record<string, FakeFile | Served> = await singleRepo();
    repo[`${REPO}@main/config.json`] = { status: 500 };
    await expect(loadHubModel(REPO, { fetch: fakeHub(repo).fetch })).rejects.toThrow(/fetching "config\.json" in "tiny-org\/tiny-llama" at revision "main" failed: HTTP 500/);
    repo[`${REPO}@main/config.json`] = { body: ENC.encode('<html>login</html>') };
    await expect(loadHubModel(REPO, { fetch: fakeHub(repo).fetch })).rejects.toThrow(/config\.json is not a JSON object/);
  });

  it('abort mid-download rejects with AbortError and stops reading', async () => {
    const repo = await singleRepo();
    const hub = fakeHub(repo, { chunk: 100 });
    const ctl = new AbortController();
    let afterAbort = 0;
    const p = loadHubModel(REPO, {
      fetch: hub.fetch,
      signal: ctl.signal,
      onProgress: (e) => {
        if (ctl.signal.aborted) afterAbort++;
        if (e.file === 'model.safetensors' && e.fileLoaded >= 500) ctl.abort();
      },
    });
    const err = await p.catch((e) => e);
    expect(err.name).toBe('AbortError');
    expect(afterAbort).toBe(0);

    // Aborted before starting: no request at all.
    const hub2 = fakeHub(repo);
    const ctl2 = new AbortController();
    ctl2.abort();
    await expect(loadHubModel(REPO, { fetch: hub2.fetch, signal: ctl2.signal })).rejects.toMatchObject({ name: 'AbortError' });
    expect(hub2.requests.length).toBe(0);
  });
});
