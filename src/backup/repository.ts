// A backup repository on one target: its config and key, typed reads and writes, and the per-user index.
import { createHash, createHmac, randomBytes, randomUUID, scryptSync, timingSafeEqual } from 'node:crypto';
import type { BackupTarget } from '../core/ports/backup-target.js';
import { BackupError } from './backup-error.js';
import { decodeObject, encodeObject, type ObjectTypeName } from './object-codec.js';
import {
  names,
  parseSegmentName,
  parseFloorName,
  parseSnapshotName,
  REPOSITORY_FORMAT,
  type RepositoryConfig,
  type SegmentRef,
  type SnapshotRef,
} from './repository-format.js';

const SCRYPT = { N: 2 ** 15, r: 8, p: 1 };

/** One user's segments and snapshots, each ascending, as listed from `users/<user>/`. */
export interface UserIndex {
  userId: string;
  segments: SegmentRef[];
  snapshots: SnapshotRef[];
  /** Highest prune floor: segments up to this sequence number and number were removed on purpose by prune. */
  floor?: { seq: number; n: number };
}

export interface OpenRepositoryOptions {
  /** Key material (a passphrase or random text) from a file or the environment; null for none. */
  key: string | null;
  /** Create the repository (writing `config`) when the target holds none. Default true. */
  create?: boolean;
}

/**
 * Opens the repository on `target`, creating its `config` object the first time. With an
 * encrypted repository the key is checked against `config` before anything else is read or
 * written, so a wrong key is a clear `backup_key_mismatch` and never leads to writes.
 */
export async function openRepository(target: BackupTarget, options: OpenRepositoryOptions): Promise<BackupRepository> {
  let config = await readConfig(target);
  if (!config) {
    if (options.create === false) throw new BackupError('backup_target_invalid', `${target.description} holds no Keepsake backup repository`);
    const fresh = newConfig(options.key);
    await target.putIfAbsent(names.config, encodeObject(names.config, 'config', Buffer.from(JSON.stringify(fresh.config)), { compress: false, key: null }));
    config = await readConfig(target); // another writer may have won the race
    if (!config) throw new BackupError('backup_target_invalid', `could not create the repository on ${target.description}`);
  }
  if (config.format > REPOSITORY_FORMAT) {
    throw new BackupError('backup_format_unsupported', `repository on ${target.description} has format ${config.format}; this Keepsake reads up to ${REPOSITORY_FORMAT}`);
  }
  return new BackupRepository(target, config, deriveAndCheckKey(config, options.key, target.description));
}

async function readConfig(target: BackupTarget): Promise<RepositoryConfig | null> {
  const bytes = await target.get(names.config);
  if (!bytes) return null;
  return JSON.parse(decodeObject(names.config, bytes, null, 'config').toString('utf8')) as RepositoryConfig;
}

function newConfig(key: string | null): { config: RepositoryConfig } {
  const repositoryId = randomUUID();
  const config: RepositoryConfig = { format: REPOSITORY_FORMAT, repositoryId, createdAt: new Date().toISOString(), encryption: null };
  if (key !== null) {
    const salt = randomBytes(16);
    const derived = scryptSync(key, salt, 32, { ...SCRYPT, maxmem: 128 * 1024 * 1024 });
    config.encryption = { cipher: 'aes-256-gcm', kdf: 'scrypt', salt: salt.toString('base64'), ...SCRYPT, keyCheck: keyCheck(derived, repositoryId) };
  }
  return { config };
}

function keyCheck(key: Buffer, repositoryId: string): string {
  return createHmac('sha256', key).update(`keepsake backup key check ${repositoryId}`).digest('hex');
}

function deriveAndCheckKey(config: RepositoryConfig, key: string | null, where: string): Buffer | null {
  const enc = config.encryption;
  if (!enc) {
    if (key !== null) throw new BackupError('backup_key_mismatch', `the repository on ${where} is not encrypted, but a backup key was given; refusing to mix`);
    return null;
  }
  if (key === null) throw new BackupError('backup_key_required', `the repository on ${where} is encrypted: give its key (--backup-key-file FILE or KEEPSAKE_BACKUP_KEY)`);
  const derived = scryptSync(key, Buffer.from(enc.salt, 'base64'), 32, { N: enc.N, r: enc.r, p: enc.p, maxmem: 128 * 1024 * 1024 });
  const want = Buffer.from(enc.keyCheck, 'hex');
  const got = Buffer.from(keyCheck(derived, config.repositoryId), 'hex');
  if (want.length !== got.length || !timingSafeEqual(want, got)) {
    throw new BackupError('backup_key_mismatch', `wrong backup key for the repository on ${where} (the key check in its config does not match); nothing was read or written`);
  }
  return derived;
}

/** Typed access to one repository. Every read verifies the object's checksum. */
export class BackupRepository {
  constructor(
    readonly target: BackupTarget,
    readonly config: RepositoryConfig,
    private readonly key: Buffer | null,
  ) {}

  get encrypted(): boolean {
    return this.key !== null;
  }

  /**
   * The derived object key, for verification's worker threads in this process (they decode
   * objects off the main thread). Never written anywhere.
   */
  objectKey(): Buffer | null {
    return this.key;
  }

  /** Writes an object once; false when it already existed (it is not overwritten). */
  async put(name: string, type: ObjectTypeName, payload: Uint8Array, compress = true): Promise<boolean> {
    return this.target.putIfAbsent(name, encodeObject(name, type, payload, { compress, key: this.key }));
  }

  async putJson(name: string, type: ObjectTypeName, value: unknown): Promise<boolean> {
    return this.put(name, type, Buffer.from(JSON.stringify(value), 'utf8'));
  }

  /**
   * Writes a JSON value under `data/<sha256>` (content-addressed; the hash covers the plaintext)
   * and returns the name. Writing the same content again writes nothing.
   */
  async putData(type: ObjectTypeName, value: unknown): Promise<string> {
    const bytes = Buffer.from(JSON.stringify(value), 'utf8');
    const name = names.data(createHash('sha256').update(bytes).digest('hex'));
    await this.put(name, type, bytes);
    return name;
  }

  /** Reads and decodes an object; throws `backup_object_missing` or `backup_object_corrupt`. */
  async get(name: string, type?: ObjectTypeName): Promise<Buffer> {
    const bytes = await this.target.get(name);
    if (!bytes) throw new BackupError('backup_object_missing', `backup object ${name} is missing`, { object: name });
    return decodeObject(name, bytes, this.key, type);
  }

  /** Decodes bytes already read (checksum, decryption, decompression). */
  decode(name: string, bytes: Uint8Array, type?: ObjectTypeName): Buffer {
    return decodeObject(name, bytes, this.key, type);
  }

  async getJson<T>(name: string, type?: ObjectTypeName): Promise<T> {
    const body = await this.get(name, type);
    try {
      return JSON.parse(body.toString('utf8')) as T;
    } catch (e) {
      throw new BackupError('backup_object_corrupt', `backup object ${name} does not hold valid JSON`, { object: name, cause: e });
    }
  }

  /** One user's index: a single listing of `users/<user>/`, reading no other user's objects. */
  async userIndex(userId: string): Promise<UserIndex> {
    const index: UserIndex = { userId, segments: [], snapshots: [] };
    for await (const o of this.target.list(names.userPrefix(userId))) addToIndex(index, o.name, o.size);
    return index;
  }

  /** Every user's index from one listing of `users/`. */
  async allUserIndexes(): Promise<Map<string, UserIndex>> {
    return indexesFromListing(await this.listNames('users/'));
  }

  /** The same repository read through another target (e.g. a cache in front of this one). */
  withTarget(target: BackupTarget): BackupRepository {
    return new BackupRepository(target, this.config, this.key);
  }

  /** Names of every object under `prefix`, with sizes. */
  async listNames(prefix: string): Promise<Array<{ name: string; size: number }>> {
    const out: Array<{ name: string; size: number }> = [];
    for await (const o of this.target.list(prefix)) out.push(o);
    return out;
  }
}

function addToIndex(index: UserIndex, name: string, size: number): void {
  const seg = parseSegmentName(name, size);
  if (seg) index.segments.push(seg);
  const snap = parseSnapshotName(name, size);
  if (snap) index.snapshots.push(snap);
  const floor = parseFloorName(name);
  if (floor && (!index.floor || floor.seq > index.floor.seq)) index.floor = floor;
}

/** Builds every user's index from a listing that includes `users/…` names. */
export function indexesFromListing(list: Iterable<{ name: string; size: number }>): Map<string, UserIndex> {
  const out = new Map<string, UserIndex>();
  for (const o of list) {
    const m = /^users\/([A-Za-z0-9_-]+)\//.exec(o.name);
    if (!m) continue;
    const userId = names.userFromKey(m[1]);
    let index = out.get(userId);
    if (!index) out.set(userId, (index = { userId, segments: [], snapshots: [] }));
    addToIndex(index, o.name, o.size);
  }
  return out;
}
