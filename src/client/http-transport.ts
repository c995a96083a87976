// The sync API over fetch: bearer auth, stable error codes, retries with backoff for what is
// safe to retry (every request here is: pushes carry changeIds, blob uploads are by hash).
import type {
  ChangesResponse,
  PushRequest,
  PushResponse,
  WireCollection,
  WireError,
  WireItem,
  WireRevision,
} from '../protocol/sync-protocol.js';

/** An error from the server (its stable `code`) or `offline` when it could not be reached. */
export class SyncError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number | null,
    readonly details?: Record<string, unknown>,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'SyncError';
  }

  /** Whether trying again later can succeed without anything changing on the device. */
  get retryable(): boolean {
    return this.code === 'offline' || this.status === null || this.status >= 500 || this.status === 429;
  }
}

export interface RetryPolicy {
  /** Attempts per request, including the first (default 4). */
  attempts: number;
  /** First backoff in ms, doubled each attempt with ±50% jitter (default 100). */
  baseDelayMs: number;
  maxDelayMs: number;
}

export interface TransportOptions {
  serverUrl: string;
  /** The device token (`ks_…`), or a function giving the current one. */
  token: string | (() => string | Promise<string>);
  fetch?: typeof fetch;
  retry?: Partial<RetryPolicy>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class HttpTransport {
  private readonly base: string;
  private readonly fetchFn: typeof fetch;
  readonly retry: RetryPolicy;
  token: TransportOptions['token'];

  constructor(options: TransportOptions) {
    this.base = options.serverUrl.replace(/\/+$/, '');
    this.fetchFn = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.retry = { attempts: 4, baseDelayMs: 100, maxDelayMs: 5000, ...options.retry };
    this.token = options.token;
  }

  /** One request with retries; resolves to the parsed JSON body (or raw bytes for blobs). */
  private async request(method: string, path: string, body?: unknown, raw = false): Promise<any> {
    let last: SyncError | null = null;
    for (let attempt = 0; attempt < this.retry.attempts; attempt++) {
      if (attempt > 0) {
        const d = Math.min(this.retry.maxDelayMs, this.retry.baseDelayMs * 2 ** (attempt - 1));
        await sleep(d * (0.5 + Math.random()));
      }
      try {
        return await this.once(method, path, body, raw);
      } catch (e) {
        if (!(e instanceof SyncError) || !e.retryable) throw e;
        last = e;
      }
    }
    throw last!;
  }

  private async once(method: string, path: string, body: unknown, raw: boolean): Promise<any> {
    const token = typeof this.token === 'function' ? await this.token() : this.token;
    const headers: Record<string, string> = { authorization: `Bearer ${token}` };
    let payload: string | Uint8Array | undefined;
    if (body instanceof Uint8Array) {
      headers['content-type'] = 'application/octet-stream';
      payload = body;
    } else if (body !== undefined) {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(body);
    }
    let res: Response;
    try {
      res = await this.fetchFn(this.base + path, { method, headers, body: payload as RequestInit["body"] });
    } catch (e) {
      throw new SyncError('offline', `cannot reach ${this.base}: ${(e as Error).message}`, null, undefined, { cause: e });
    }
    if (res.ok && raw) return new Uint8Array(await res.arrayBuffer());
    let text: string;
    try {
      text = await res.text();
    } catch (e) {
      throw new SyncError('offline', `connection to ${this.base} dropped: ${(e as Error).message}`, null, undefined, { cause: e });
    }
    let parsed: any = undefined;
    if (text) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined;
      }
    }
    if (!res.ok) {
      const err = (parsed?.error ?? { code: `http_${res.status}`, message: text.slice(0, 200) }) as WireError;
      throw new SyncError(err.code, err.message, res.status, err.details);
    }
    return parsed;
  }

  changes(since: string | null, limit = 1000): Promise<ChangesResponse> {
    const q = new URLSearchParams({ limit: String(limit) });
    if (since) q.set('since', since);
    return this.request('GET', `/api/v1/changes?${q}`);
  }

  push(req: PushRequest): Promise<PushResponse> {
    return this.request('POST', '/api/v1/changes', req);
  }

  async collections(): Promise<WireCollection[]> {
    return (await this.request('GET', '/api/v1/collections')).collections;
  }

  createCollection(c: { id: string; kind: string; name: string }): Promise<WireCollection> {
    return this.request('POST', '/api/v1/collections', c);
  }

  /** The item (or its tombstone) as the server holds it; null when it never had it. */
  async item(collection: string, id: string): Promise<WireItem | null> {
    try {
      return await this.request('GET', `/api/v1/items/${encodeURIComponent(collection)}/${encodeURIComponent(id)}`);
    } catch (e) {
      if (e instanceof SyncError && e.code === 'item_not_found') return null;
      throw e;
    }
  }

  async revisions(collection: string, id: string): Promise<WireRevision[]> {
    const r = await this.request('GET', `/api/v1/items/${encodeURIComponent(collection)}/${encodeURIComponent(id)}/revisions`);
    return r.revisions;
  }

  async putBlob(hash: string, bytes: Uint8Array): Promise<void> {
    await this.request('PUT', `/api/v1/blobs/${hash}`, bytes);
  }

  getBlob(hash: string): Promise<Uint8Array> {
    return this.request('GET', `/api/v1/blobs/${hash}`, undefined, true);
  }
}
