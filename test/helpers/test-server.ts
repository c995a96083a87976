// Starts a real Keepsake HTTP server on a random loopback port for integration tests.
import type { FastifyInstance } from 'fastify';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveConfig } from '../../src/config/config-schema.js';
import type { BlobStore } from '../../src/core/ports/blob-store.js';
import type { RecordStore } from '../../src/core/ports/record-store.js';
import { buildHttpServer } from '../../src/http/server.js';
import { MemoryBlobStore } from '../../src/store/memory/blob-store.js';
import { MemoryRecordStore } from '../../src/store/memory/record-store.js';
import { assemble, type Keepsake, openKeepsake } from '../../src/wiring/open-keepsake.js';

export interface TestServer {
  url: string;
  keepsake: Keepsake;
  app: FastifyInstance;
  dir: string;
  /** Creates a user and returns a device token for it. */
  login(name?: string, options?: { admin?: boolean }): Promise<Session>;
  close(): Promise<void>;
}

export interface Session {
  name: string;
  password: string;
  token: string;
  /** fetch against the server with this session's bearer token; JSON bodies are encoded. */
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any; headers: Headers }>;
}

let counter = 0;

export async function call(
  url: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: any; headers: Headers }> {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    if (body instanceof Uint8Array || typeof body === 'string') init.body = body as string;
    else {
      init.body = JSON.stringify(body);
      (init.headers as Record<string, string>)['content-type'] = 'application/json';
    }
  }
  const res = await fetch(url + path, init);
  const text = await res.text();
  let parsed: unknown = text;
  if ((res.headers.get('content-type') ?? '').includes('json') && text) parsed = JSON.parse(text);
  return { status: res.status, body: parsed, headers: res.headers };
}

export function basic(name: string, password: string): Record<string, string> {
  return { authorization: 'Basic ' + Buffer.from(`${name}:${password}`).toString('base64') };
}

/** `kind: 'sqlite'` uses a real SQLite file and blob folder in a temp dir; default is memory. */
export async function startTestServer(
  options: { kind?: 'memory' | 'sqlite'; store?: RecordStore; blobs?: BlobStore; env?: Record<string, string> } = {},
): Promise<TestServer> {
  const dir = await mkdtemp(join(tmpdir(), 'keepsake-test-'));
  const config = resolveConfig({ data: dir, port: '0' }, options.env ?? {});
  const keepsake =
    options.kind === 'sqlite'
      ? await openKeepsake(config)
      : assemble(config, options.store ?? new MemoryRecordStore(), options.blobs ?? new MemoryBlobStore());
  const app = await buildHttpServer(keepsake);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address();
  const url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  return {
    url,
    keepsake,
    app,
    dir,
    async login(name = `user${++counter}`, opts = {}) {
      const password = `pw-${name}-secret`;
      await keepsake.accounts.addUser(name, password, opts);
      const r = await call(url, 'POST', '/api/v1/tokens', { device: 'test' }, basic(name, password));
      if (r.status !== 201) throw new Error(`login failed: ${r.status} ${JSON.stringify(r.body)}`);
      const token = r.body.token as string;
      return {
        name,
        password,
        token,
        call: (method, path, body, headers = {}) => call(url, method, path, body, { authorization: `Bearer ${token}`, ...headers }),
      };
    },
    async close() {
      await app.close();
      await keepsake.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
