// One DAV request: who is asking (HTTP Basic with the password or a device token), what path, its body and headers.
import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AccountService } from '../core/accounts/account-service.js';
import { DavService, type DavDevice, type Preconditions } from '../core/dav/dav-service.js';
import { fail, KeepsakeError } from '../core/errors.js';
import { PhotoFolders } from '../core/dav/photo-folders.js';
import { DEFAULT_SYNC_LIMITS } from '../core/sync/sync-service.js';
import type { User } from '../core/model.js';
import type { RecordStore } from '../core/ports/record-store.js';
import { parseBasic } from '../http/auth.js';
import type { Keepsake } from '../wiring/open-keepsake.js';
import { type DavTarget, parseDavPath } from './dav-paths.js';
import { parseXml, type XmlElement } from './xml.js';

/** Largest XML request body (PROPFIND, REPORT, PROPPATCH, MKCOL): a bigger one is refused unread. */
export const MAX_XML_BYTES = 1024 * 1024;

const services = new WeakMap<Keepsake, { dav: DavService; folders: PhotoFolders }>();

/** The one DavService and PhotoFolders of a running Keepsake (they hold the delete log and the folder trees). */
export function davServicesOf(keepsake: Keepsake): { dav: DavService; folders: PhotoFolders } {
  let s = services.get(keepsake);
  if (!s) {
    const dav = new DavService(keepsake.store, keepsake.sync, keepsake.photos, keepsake.clock, {
      share: keepsake.config.massDeleteShare,
      minItems: keepsake.config.massDeleteMinItems,
    });
    const folders = new PhotoFolders(keepsake.store, keepsake.blobs, keepsake.clock, dav, {
      maxTextBytes: DEFAULT_SYNC_LIMITS.maxTextBytes,
      maxBlobBytes: keepsake.config.maxPhotoBytes,
    });
    s = { dav, folders };
    services.set(keepsake, s);
  }
  return s;
}

/** The one DavService of a running Keepsake. */
export function davServiceOf(keepsake: Keepsake): DavService {
  return davServicesOf(keepsake).dav;
}

/** How long a checked password is reused within this process (scrypt on every DAV request would make sync crawl); the account is re-read on each use. */
const PASSWORD_CACHE_MS = 30_000;
/**
 * How long a verified Authorization header is trusted without asking the accounts again. Account
 * changes made through this process (password, deletion, token revocation) end it at once (see
 * `AccountService.credentialGeneration`); made by another process (the CLI on the same SQLite file,
 * another server on PostgreSQL), within this time — the same bound as the token cache.
 */
const HEADER_CACHE_MS = 5_000;
const HEADER_CACHE_MAX = 10_000;

interface VerifiedHeader {
  user: User;
  device: DavDevice;
  at: number;
  generation: number;
}

/** Authenticates DAV requests: Basic with the account password, Basic with a device token as app password, or Bearer. */
export class DavAuth {
  private readonly passwords = new Map<string, { user: User; at: number }>();
  /**
   * Headers verified recently, by SHA-256 of the whole header (never the credentials themselves):
   * a DAV client sends the same header with every request, and one hash and lookup are cheaper
   * than decoding Basic, hashing the token and looking it up (~15 µs of a ~0.5 ms PUT), and much
   * cheaper than re-reading the account for a password. Only successes are kept.
   */
  private readonly headers = new Map<string, VerifiedHeader>();

  constructor(
    private readonly accounts: AccountService,
    private readonly store: RecordStore,
    private readonly now: () => number,
  ) {}

  async authenticate(request: FastifyRequest): Promise<{ user: User; device: DavDevice }> {
    const header = request.headers.authorization;
    const now = this.now();
    const key = header ? createHash('sha256').update(header).digest('base64') : null;
    const hit = key === null ? undefined : this.headers.get(key);
    if (hit && now - hit.at < HEADER_CACHE_MS && hit.generation === this.accounts.credentialGeneration) return hit;
    // Read before verifying: a change that lands while this request verifies makes the entry stale at once.
    const generation = this.accounts.credentialGeneration;
    const verified = await this.verify(header, request.ip, now);
    if (key !== null) {
      if (this.headers.size >= HEADER_CACHE_MAX) this.headers.clear();
      this.headers.set(key, { ...verified, at: now, generation });
    }
    return verified;
  }

  private async verify(header: string | undefined, address: string, now: number): Promise<{ user: User; device: DavDevice }> {
    const bearer = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (bearer) {
      const { user, token } = await this.accounts.authenticateToken(bearer[1]);
      return { user, device: { name: token.device, id: token.id } };
    }
    const creds = parseBasic(header);
    if (!creds) fail('unauthorized', 'send your account name and password (or a device token as the password) with HTTP Basic authentication');
    if (creds.password.startsWith('ks_')) {
      const { user, token } = await this.accounts.authenticateToken(creds.password);
      if (user.name !== creds.name) fail('unauthorized', 'wrong user name or password');
      return { user, device: { name: token.device, id: token.id } };
    }
    const key = createHash('sha256').update(`${creds.name}\u0000${creds.password}`).digest('hex');
    const hit = this.passwords.get(key);
    if (hit && now - hit.at < PASSWORD_CACHE_MS) {
      // A cheap read keeps a password change or an account deletion by another process effective at once.
      const current = await this.store.getUser(hit.user.id);
      if (current && !current.deletedAt && current.passwordHash === hit.user.passwordHash) return { user: current, device: { name: 'account password', id: null } };
      this.passwords.delete(key);
    }
    const user = await this.accounts.authenticatePassword(creds.name, creds.password, address);
    if (this.passwords.size > 10_000) this.passwords.clear();
    this.passwords.set(key, { user, at: now });
    return { user, device: { name: 'account password', id: null } };
  }
}

/** Reads the raw body up to `max` bytes; a longer one fails with `body_too_large` and is not kept. */
export function readBody(request: FastifyRequest, max: number): Promise<Buffer> {
  const declared = Number(request.headers['content-length'] ?? '0');
  if (declared > max) return Promise.reject(new KeepsakeError('body_too_large', `the body is ${declared} bytes; at most ${max} are accepted here`));
  const raw = request.raw;
  if (raw.readableEnded) return Promise.resolve(Buffer.alloc(0));
  // Plain stream events: an async iterator per request costs more than the small bodies DAV sends.
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (error: Error | null) => {
      raw.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose);
      if (error) reject(error);
      else resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size));
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) {
        // Stop keeping it; the error handler drains the rest so the connection stays usable.
        raw.pause();
        return done(new KeepsakeError('body_too_large', `the body is over ${max} bytes`));
      }
      chunks.push(chunk);
    };
    const onEnd = () => done(null);
    const onError = (e: Error) => done(e);
    const onClose = () => {
      if (!raw.readableEnded) done(new KeepsakeError('invalid_request', 'the connection closed before the whole body arrived'));
    };
    raw.on('data', onData).on('end', onEnd).on('error', onError).on('close', onClose);
  });
}

/** Everything a method handler needs. */
export interface DavRequest {
  keepsake: Keepsake;
  dav: DavService;
  folders: PhotoFolders;
  request: FastifyRequest;
  reply: FastifyReply;
  user: User;
  device: DavDevice;
  target: DavTarget;
}

/** The parsed XML body, or null when there is none. */
export async function xmlBody(req: DavRequest): Promise<XmlElement | null> {
  const raw = await readBody(req.request, MAX_XML_BYTES);
  const text = raw.toString('utf8').trim();
  if (text === '') return null;
  return parseXml(text);
}

/** The Depth header: `0`, `1` or `infinity` (default when absent: `fallback`). */
export function depthOf(request: FastifyRequest, fallback: '0' | '1' | 'infinity'): '0' | '1' | 'infinity' {
  const d = request.headers.depth;
  if (d === undefined) return fallback;
  const v = String(d).trim().toLowerCase();
  if (v === '0' || v === '1' || v === 'infinity') return v;
  fail('invalid_request', `Depth must be 0, 1 or infinity, not "${v.slice(0, 20)}"`);
}

function tags(header: string | string[] | undefined): '*' | string[] | undefined {
  if (header === undefined) return undefined;
  const v = [header].flat().join(',').trim();
  if (v === '*') return '*';
  // Weak tags compare weakly for If-None-Match; ETags here are strong, so the W/ prefix is dropped.
  return v.split(',').map((t) => t.trim().replace(/^W\//, '')).filter((t) => t !== '');
}

/** `If-Match` and `If-None-Match` of the request. */
export function preconditionsOf(request: FastifyRequest): Preconditions {
  return { ifMatch: tags(request.headers['if-match']), ifNoneMatch: tags(request.headers['if-none-match']) };
}

/** Parses a Destination header (COPY/MOVE) into a target; it must be on this server. */
export function destinationOf(request: FastifyRequest): DavTarget {
  const d = request.headers.destination;
  if (typeof d !== 'string' || d === '') fail('invalid_request', 'COPY and MOVE need a Destination header');
  return parseDavPath(d);
}
