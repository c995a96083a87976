// A real Keepsake server that can be stopped and started again on the same data dir and port,
// so client tests can wipe it, copy its files, and restore them (test-server.ts always starts fresh).
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { FastifyInstance } from 'fastify';
import { KeepsakeClient, MemoryReplicaStore, type ClientOptions } from '../../src/client/index.js';
import { resolveConfig } from '../../src/config/config-schema.js';
import { buildHttpServer } from '../../src/http/server.js';
import { type Keepsake, openKeepsake } from '../../src/wiring/open-keepsake.js';
import { basic, call } from '../helpers/test-server.js';

export class RestartableServer {
  keepsake!: Keepsake;
  private app: FastifyInstance | null = null;
  port = 0;
  private readonly dirs: string[] = [];

  constructor(public dir: string = mkdtempSync(join(tmpdir(), 'keepsake-client-'))) {
    this.dirs.push(dir);
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const config = resolveConfig({ data: this.dir, port: '0' }, {});
    this.keepsake = await openKeepsake(config);
    this.app = await buildHttpServer(this.keepsake);
    await this.app.listen({ host: '127.0.0.1', port: this.port });
    const addr = this.app.server.address();
    this.port = typeof addr === 'object' && addr ? addr.port : 0;
  }

  async stop(): Promise<void> {
    if (!this.app) return;
    await this.app.close();
    await this.keepsake.close();
    this.app = null;
  }

  /** The store is lost: the server comes back on the same address with a new, empty data dir. */
  async wipe(): Promise<void> {
    await this.stop();
    this.dir = mkdtempSync(join(tmpdir(), 'keepsake-client-'));
    this.dirs.push(this.dir);
    await this.start();
  }

  /** Copies the data dir while stopped (a backup); returns the copy's path. */
  async snapshot(): Promise<string> {
    await this.stop();
    const copy = mkdtempSync(join(tmpdir(), 'keepsake-backup-'));
    this.dirs.push(copy);
    cpSync(this.dir, copy, { recursive: true });
    await this.start();
    return copy;
  }

  /** Restores a snapshot as an operator would, bumping the epoch as a restore must. */
  async restore(snapshot: string): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
    cpSync(snapshot, this.dir, { recursive: true });
    const db = new Database(join(this.dir, 'keepsake.db'));
    db.prepare('UPDATE server SET epoch = epoch + 1').run();
    db.close();
    await this.start();
  }

  /** Creates the account if missing and returns a new device token. */
  async token(name: string): Promise<string> {
    const password = `pw-${name}-secret`;
    if (!(await this.keepsake.accounts.listUsers()).some((u) => u.name === name)) await this.keepsake.accounts.addUser(name, password, {});
    const r = await call(this.url, 'POST', '/api/v1/tokens', { device: 'test' }, basic(name, password));
    if (r.status !== 201) throw new Error(`token: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body.token as string;
  }

  /** Authenticated JSON call as `token`. */
  call(token: string, method: string, path: string, body?: unknown) {
    return call(this.url, method, path, body, { authorization: `Bearer ${token}` });
  }

  async close(): Promise<void> {
    await this.stop();
    for (const d of this.dirs) rmSync(d, { recursive: true, force: true });
  }
}

/** A device on a memory replica, with fast retries. */
export async function device(server: RestartableServer, token: string, options: Partial<ClientOptions> = {}): Promise<KeepsakeClient> {
  return KeepsakeClient.open({
    serverUrl: server.url,
    token,
    store: new MemoryReplicaStore(),
    retry: { attempts: 3, baseDelayMs: 5, maxDelayMs: 20 },
    ...options,
  });
}
