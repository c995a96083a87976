// How the fleet gets its accounts and device tokens: through the admin API, or directly in the
// store named by a data directory (works while the server runs: SQLite WAL or PostgreSQL).
import { resolveConfig } from '../config/config-schema.js';
import { openKeepsake, type Keepsake } from '../wiring/open-keepsake.js';

/**
 * `adminToken`: POST /api/v1/admin/users (a function: the current token, e.g. after a restore); `dataDir` (+ optional `store` URL): the store directly;
 * `provisioner`: your own (a drill that replaces the server hands the fleet the new accounts).
 */
export type CreateUsers = { adminToken: string | (() => string | Promise<string>) } | { dataDir: string; store?: string } | { provisioner: AccountProvisioner };

export interface AccountProvisioner {
  /** Makes sure the account exists (creating it if a wiped server lost it). */
  ensureUser(name: string, password: string): Promise<void>;
  /** A new device token for the account. */
  token(name: string, password: string, device: string): Promise<string>;
  close(): Promise<void>;
}

async function json(url: string, init: RequestInit): Promise<{ status: number; body: any }> {
  const res = await fetch(url, init);
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

export async function openProvisioner(serverUrl: string, how: CreateUsers): Promise<AccountProvisioner> {
  const base = serverUrl.replace(/\/+$/, '');
  const login = async (name: string, password: string, device: string) => {
    const r = await json(`${base}/api/v1/tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Basic ' + btoa(`${name}:${password}`) },
      body: JSON.stringify({ device }),
    });
    if (r.status !== 201) throw new Error(`token for ${name}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body.token as string;
  };
  if ('provisioner' in how) return how.provisioner;
  if ('adminToken' in how) {
    return {
      async ensureUser(name, password) {
        const r = await json(`${base}/api/v1/admin/users`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${typeof how.adminToken === 'function' ? await how.adminToken() : how.adminToken}` },
          body: JSON.stringify({ name, password }),
        });
        if (r.status !== 201 && r.body?.error?.code !== 'user_exists') throw new Error(`create ${name}: ${r.status} ${JSON.stringify(r.body)}`);
      },
      token: login,
      async close() {},
    };
  }
  let keepsake: Keepsake | null = null;
  const open = async () => (keepsake ??= await openKeepsake(resolveConfig({ data: how.dataDir, ...(how.store ? { store: how.store } : {}) }, process.env)));
  return {
    async ensureUser(name, password) {
      const k = await open();
      try {
        await k.accounts.addUser(name, password);
      } catch (e) {
        if ((e as { code?: string }).code !== 'user_exists') throw e;
      }
    },
    async token(name, _password, device) {
      const k = await open();
      return (await k.accounts.issueToken(await k.accounts.requireUser(name), device)).token;
    },
    async close() {
      await keepsake?.close();
      keepsake = null;
    },
  };
}
