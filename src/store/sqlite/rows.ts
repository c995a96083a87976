// Row shapes of the SQLite tables and their conversion to the core model.
import type { Collection, DeviceToken, Kind, Revision, RevisionReason, StoredItem, User } from '../../core/model.js';

/** Columns selected for an item (same for the `items` and `revisions` tables). */
export const ITEM_COLUMNS = 'collection, id, version, hash, modified, deleted, content';
/** Columns selected for a revision. */
export const REVISION_COLUMNS = `${ITEM_COLUMNS}, reason, kept_at`;
/** Columns of `users` that make up a `User` (the sequence counter `seq` is not part of it). */
export const USER_COLUMNS = 'id, name, password_hash, admin, created_at, deleted_at';
/** Columns of `tokens` that make up a `DeviceToken`. */
export const TOKEN_COLUMNS = 'id, user_id, device, token_hash, created_at, last_used_at';
/**
 * Subquery for the `collections.ord` of (user id, collection id), the first half of an item row's
 * key: `items WHERE collection_ord = (${COLLECTION_ORD}) AND id = ?` with parameters user id,
 * collection id, item id. No such collection gives NULL, which matches no row.
 */
export const COLLECTION_ORD = 'SELECT ord FROM collections WHERE user_id = ? AND id = ?';
/** Columns of `collections` that make up a `Collection`. */
export const COLLECTION_COLUMNS = 'id, kind, name, count, digest, created_at, last_change_at, deleted_at';

/** A row of `items` (or the item part of `revisions`); booleans are stored as 0/1. */
export interface ItemRow {
  collection: string;
  id: string;
  version: number;
  hash: string;
  modified: string;
  deleted: number;
  content: string | null;
}

/** A row of `revisions`. */
export interface RevisionRow extends ItemRow {
  reason: string;
  kept_at: string;
}

/** A row of `users`. */
export interface UserRow {
  id: string;
  name: string;
  password_hash: string;
  admin: number;
  created_at: string;
  deleted_at: string | null;
}

/** A row of `tokens`. */
export interface TokenRow {
  id: string;
  user_id: string;
  device: string;
  token_hash: string;
  created_at: string;
  last_used_at: string | null;
}

/** A row of `collections`. */
export interface CollectionRow {
  id: string;
  kind: string;
  name: string;
  count: number;
  digest: string;
  created_at: string;
  last_change_at: string | null;
  deleted_at: string | null;
}

/** The stored item a row describes. */
export function toItem(r: ItemRow): StoredItem {
  return {
    collection: r.collection,
    id: r.id,
    version: r.version,
    hash: r.hash,
    modified: r.modified,
    deleted: r.deleted === 1,
    content: r.content,
  };
}

/** The kept version a row describes. */
export function toRevision(r: RevisionRow): Revision {
  return { ...toItem(r), reason: r.reason as RevisionReason, keptAt: r.kept_at };
}

/** The account a row describes. */
export function toUser(r: UserRow): User {
  return {
    id: r.id,
    name: r.name,
    passwordHash: r.password_hash,
    admin: r.admin === 1,
    createdAt: r.created_at,
    deletedAt: r.deleted_at,
  };
}

/** The device token a row describes. */
export function toToken(r: TokenRow): DeviceToken {
  return {
    id: r.id,
    userId: r.user_id,
    device: r.device,
    tokenHash: r.token_hash,
    createdAt: r.created_at,
    lastUsedAt: r.last_used_at,
  };
}

/** The collection a row describes. */
export function toCollection(r: CollectionRow): Collection {
  return {
    id: r.id,
    kind: r.kind as Kind,
    name: r.name,
    count: r.count,
    digest: r.digest,
    createdAt: r.created_at,
    lastChangeAt: r.last_change_at,
    deletedAt: r.deleted_at,
  };
}
