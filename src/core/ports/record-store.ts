// The record-store port: users, tokens, collections, items, revisions and the per-user change log.
import type {
  ChangeOutcome,
  Collection,
  DeviceToken,
  NewCollection,
  PreparedChange,
  Revision,
  StoredItem,
  User,
} from '../model.js';

/** Identity of this store's data set; `epoch` starts at 1 and is bumped by restores. */
export interface ServerIdentity {
  id: string;
  epoch: number;
  createdAt: string;
}

/**
 * One record of a user's change log as continuous backup ships it: an item row (a live version or
 * a tombstone) or a kept revision, each under its sequence number (`version`).
 */
export type LogRecord = ({ type: 'item' } & StoredItem) | ({ type: 'revision' } & Revision);

/**
 * What backup reads for one user in one consistent snapshot of the store (added for backups).
 * `records` are the items and revisions with `afterSeq < version <= upTo`, ascending by version;
 * `complete` is true when that is every such record up to `seq` (then `upTo === seq`, and the
 * collections' `count` and `digest` describe exactly the state at `seq`).
 */
export interface BackupBatch {
  user: User;
  /** Every device token of the user, in creation order. */
  tokens: DeviceToken[];
  /** Every collection of the user, soft-deleted ones included, in creation order. */
  collections: Collection[];
  /** Every blob the user has uploaded, sorted. */
  blobRefs: string[];
  /** Every DAV property set of the user (see `getDavProperties`), sorted by collection, then resource. */
  davProperties: DavPropertyRow[];
  /** The user's highest sequence number at the time of the read. */
  seq: number;
  records: LogRecord[];
  upTo: number;
  complete: boolean;
}

/**
 * The identity a full restore into an empty store carries on (see `RecordStore.bumpEpoch`): the
 * server id the backup was written by, and the highest epoch the backup recorded.
 */
export interface AdoptedIdentity {
  id: string;
  aboveEpoch: number;
}

/**
 * The DAV properties of one resource: a collection (`resource` ''), an item, or an entry the DAV
 * layer keeps for itself (resource names clients chose, the record of DAV deletes).
 */
export interface DavPropertyRow {
  collection: string;
  resource: string;
  props: Record<string, string>;
}

/** A user's account as a backup recorded it (see `RecordStore.restoreAccount`). */
export interface RestoredAccount {
  user: User;
  tokens: DeviceToken[];
  collections: Array<Pick<Collection, 'id' | 'kind' | 'name' | 'createdAt' | 'deletedAt'>>;
  blobRefs: string[];
  /** DAV properties; a resource the store already has properties for keeps its own (backups written before 2026-11-25 have none). */
  davProperties?: DavPropertyRow[];
  seq: number;
}

/** One backed-up item (live or tombstone) and the revisions kept for it. */
export interface RestoredItem {
  item: StoredItem;
  revisions: Revision[];
}

export interface RestoreItemsResult {
  inserted: number;
  replaced: number;
  keptNewer: number;
  unchanged: number;
}

/** Counts for /metrics. */
export interface StoreStats {
  users: number;
  liveItems: number;
  /** Approximate bytes the store occupies (file size or database size). */
  bytes: number;
}

/**
 * How a read is answered. By default a read resolves only once everything it could have seen is
 * durable, so no one is shown a write a power cut could still take back. `unsettled: true` answers
 * at once, possibly with commits not yet durable: only for a caller about to write (its write's
 * acknowledgement waits for everything before it) that waits for `settled()` before telling anyone
 * anything else it derived from the read (an error, a precondition failure).
 */
export interface ReadOptions {
  unsettled?: boolean;
}

/**
 * Durable storage of everything except photo bytes.
 *
 * Contract (checked by `describeRecordStore` in src/store/contract/record-store.contract.ts):
 * - Every method that writes resolves only after the write is committed and durable (fsynced);
 *   a rejected promise means nothing of that call was written.
 * - Lookups return `null` (or an empty list) for "not found"; they never throw for it.
 * - `applyChanges` applies each change atomically and in order, deciding each with
 *   `decideChange` from core inside the same transaction as the write. Concurrent calls may be
 *   grouped into one transaction and one fsync (group commit); results are as if they ran one
 *   after another.
 * - Every committed item change takes the user's next sequence number, which is also the new
 *   item's `version`. Sequence numbers are strictly increasing per user and never reused, even
 *   across several processes sharing one database.
 * - A change whose `changeId` was already applied for this user is answered `duplicate`
 *   without writing (retries are idempotent).
 * - Writing over a live version keeps that version as a revision (`overwritten` or `deleted`);
 *   a `conflict` keeps the losing change's content as a revision with its own sequence number.
 * - Collection `count` and `digest` (core/digest.ts) are updated in the same transaction.
 * - Ids reaching the store are already validated by core; the store must still treat them as
 *   data (parameterised queries), never as paths or SQL.
 */
export interface RecordStore {
  /** Human-readable name of the backend, e.g. `sqlite:/data/keepsake.db`. */
  readonly description: string;

  identity(): Promise<ServerIdentity>;

  /** Creates the user and its collections in one transaction. Throws `user_exists` if the name is taken (even by a soft-deleted user). */
  createUser(user: User, collections: NewCollection[]): Promise<User>;
  getUser(id: string): Promise<User | null>;
  /** Finds a user by exact name, including soft-deleted ones. */
  findUserByName(name: string): Promise<User | null>;
  listUsers(): Promise<User[]>;
  /** Updates the given fields; throws `user_not_found`. */
  updateUser(id: string, patch: Partial<Pick<User, 'passwordHash' | 'admin' | 'deletedAt'>>): Promise<User>;
  /**
   * Deletes the account and every row it owns (tokens, collections, items, revisions, blob refs,
   * DAV properties), in one transaction, if it is soft-deleted since before `deletedBefore`;
   * returns false (and changes nothing) otherwise, e.g. when it was undeleted meanwhile. Photo
   * blob files stay in the blob store.
   */
  purgeDeletedUser(id: string, deletedBefore: string): Promise<boolean>;

  createToken(token: DeviceToken): Promise<void>;
  findTokenByHash(tokenHash: string): Promise<DeviceToken | null>;
  listTokens(userId: string): Promise<DeviceToken[]>;
  /** Returns false when the user has no token with that id. */
  deleteToken(userId: string, tokenId: string): Promise<boolean>;
  touchToken(tokenId: string, at: string): Promise<void>;

  /** Throws `collection_exists` if the user already has a collection with that id (even deleted). */
  createCollection(userId: string, collection: NewCollection, now: string): Promise<Collection>;
  getCollection(userId: string, id: string, options?: ReadOptions): Promise<Collection | null>;
  /** Ordered by creation time then id; soft-deleted ones only when asked. */
  listCollections(userId: string, options?: { includeDeleted?: boolean }): Promise<Collection[]>;
  /** Throws `collection_not_found`. */
  updateCollection(userId: string, id: string, patch: { name?: string; deletedAt?: string | null }): Promise<Collection>;

  /** See the contract above. One outcome per change, in order. */
  applyChanges(userId: string, changes: PreparedChange[], now: string): Promise<ChangeOutcome[]>;
  getItem(userId: string, collection: string, id: string, options?: ReadOptions): Promise<StoredItem | null>;
  /** Items and tombstones with version > `afterSeq`, ascending by version, at most `limit`. */
  listChanges(userId: string, afterSeq: number, limit: number): Promise<StoredItem[]>;
  /** Items of a collection ascending by id after `afterId`, at most `limit`; tombstones only if asked. */
  listItems(
    userId: string,
    collection: string,
    options: { afterId?: string; limit: number; includeDeleted?: boolean },
  ): Promise<StoredItem[]>;
  /** The user's highest sequence number (0 for none). */
  lastSeq(userId: string): Promise<number>;

  /** Kept versions of one item, newest first. */
  listRevisions(userId: string, collection: string, id: string): Promise<Revision[]>;
  getRevision(userId: string, collection: string, id: string, version: number): Promise<Revision | null>;
  /**
   * The trash: for each deleted item (newest tombstone first, at most `limit`), the revision
   * its deletion kept (its newest `deleted` revision). A tombstone whose revision has expired
   * is not listed. One query, not one per tombstone.
   */
  listTrash(userId: string, limit: number): Promise<Revision[]>;
  /** Deletes revisions kept before `before`; returns how many. */
  pruneRevisions(before: string): Promise<number>;

  /** Records that the user uploaded (and so may read) this blob. Idempotent. */
  addBlobRef(userId: string, hash: string): Promise<void>;
  hasBlobRef(userId: string, hash: string): Promise<boolean>;
  /**
   * Which of `hashes` any user refers to (soft-deleted users included: their data is kept until
   * purged). The blob sweep removes a blob file only when no one does.
   */
  referencedBlobs(hashes: readonly string[]): Promise<Set<string>>;

  /**
   * Every user's id with its highest sequence number (0 for none), in no particular order. One
   * cheap query, polled by the backup shipper to find users with changes it has not shipped.
   */
  listUserSeqs(): Promise<Array<{ userId: string; seq: number }>>;
  /**
   * Reads a {@link BackupBatch} for the user in one read-only snapshot (a single transaction):
   * at most `limit` records after `afterSeq`, plus the user's account, tokens, collections and
   * blob refs as they are at that same moment. Returns null for an unknown user. Because every
   * sequence number is committed together with its item or revision row, reading "everything in
   * (afterSeq, seq]" in one snapshot misses nothing that still exists; an item version replaced
   * since is found among the revisions under the same number.
   */
  readBackupBatch(userId: string, afterSeq: number, limit: number): Promise<BackupBatch | null>;

  /**
   * DAV properties (colour, descriptions, dead properties a client set) of a collection
   * (`resource` = '') or of one item (`resource` = item id): property name (`{ns}name`) to XML
   * text. `{}` when none. They are data about the DAV view only (a client's resource names, its
   * collection colours), but a restore brings them back too: `readBackupBatch` carries them.
   */
  getDavProperties(userId: string, collection: string, resource: string, options?: ReadOptions): Promise<Record<string, string>>;
  /** Every resource of a collection that has DAV properties (item ids, and '' for the collection). */
  listDavProperties(userId: string, collection: string): Promise<Map<string, Record<string, string>>>;
  /** Sets (a string) or removes (null) properties of one resource, all in one durable transaction. */
  setDavProperties(userId: string, collection: string, resource: string, patch: Record<string, string | null>): Promise<void>;

  /**
   * Restore support (added for restores). Makes the account exist as the backup recorded it: the
   * user row (same id, name, password hash; created if missing, else left as it is), its device
   * tokens (inserted if missing), its collections (created if missing, with count 0 and the
   * empty digest: `restoreItems` fills them), its blob refs, and its DAV properties (per resource,
   * only where the store has none: properties set since are newer and stay). Raises the user's sequence
   * counter to at least `seq`, so versions written from now on are above every restored one.
   * Idempotent.
   */
  restoreAccount(account: RestoredAccount): Promise<void>;
  /**
   * Writes backed-up items with their revisions, never overwriting a newer write: an item the
   * store lacks is inserted under a fresh sequence number; one it holds with the same hash is left
   * alone; one it holds that was modified later (a write since the backup) stays current and the
   * backed-up version is kept as an `overwritten` revision; one it holds that is older, or whose
   * stored bytes no longer match its hash (damage), is replaced and kept as a revision. Revisions
   * are inserted unless a revision with the same version exists. Collection count and digest
   * follow. Atomic per call; idempotent.
   */
  restoreItems(userId: string, entries: RestoredItem[], now: string): Promise<RestoreItemsResult>;
  /**
   * Starts a new epoch (after the data was restored or replaced) and returns the new identity. With
   * `adopt` (a full restore into an empty store), the store also takes the backup's server id and
   * an epoch above both its own and `adopt.aboveEpoch`, so devices of the old server see the same
   * server in a new epoch and reconcile. Durable when it resolves.
   */
  bumpEpoch(adopt?: AdoptedIdentity): Promise<ServerIdentity>;

  stats(): Promise<StoreStats>;
  /**
   * Resolves once everything committed so far, and everything an `unsettled` read could have seen,
   * is durable (see `ReadOptions`). Stores whose reads only ever see durable data resolve at once.
   */
  settled(): Promise<void>;
  close(): Promise<void>;
}
