// Maps PostgreSQL rows to the core model; BIGINT columns arrive from `pg` as strings and become numbers here.
import type { Collection, DeviceToken, Kind, Revision, RevisionReason, StoredItem, User } from '../../core/model.js';

/** Columns selected for a StoredItem, in `toItem` order. */
export const ITEM_COLUMNS = 'collection, id, version, hash, modified, deleted, content';
/** Columns selected for a Revision. */
export const REVISION_COLUMNS = `${ITEM_COLUMNS}, reason, kept_at`;
/** Columns selected for a Collection. */
export const COLLECTION_COLUMNS = 'id, kind, name, count, digest, created_at, last_change_at, deleted_at';
/** Columns selected for a User. */
export const USER_COLUMNS = 'id, name, password_hash, admin, created_at, deleted_at';
/** Columns selected for a DeviceToken. */
export const TOKEN_COLUMNS = 'id, user_id, device, token_hash, created_at, last_used_at';

/** A row of `items` (or the item part of `revisions`). */
export interface ItemRow {
  collection: string;
  id: string;
  version: string;
  hash: string;
  modified: string;
  deleted: boolean;
  content: string | null;
}

/** A row of `revisions`. */
export interface RevisionRow extends ItemRow {
  reason: string;
  kept_at: string;
}

/** A row of `collections`. */
export interface CollectionRow {
  id: string;
  kind: string;
  name: string;
  count: string;
  digest: string;
  created_at: string;
  last_change_at: string | null;
  deleted_at: string | null;
}

/** A row of `users`. */
export interface UserRow {
  id: string;
  name: string;
  password_hash: string;
  admin: boolean;
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

/** Row to StoredItem. */
export function toItem(r: ItemRow): StoredItem {
  return {
    collection: r.collection,
    id: r.id,
    version: Number(r.version),
    hash: r.hash,
    modified: r.modified,
    deleted: r.deleted,
    content: r.content,
  };
}

/** Row to Revision. */
export function toRevision(r: RevisionRow): Revision {
  return { ...toItem(r), reason: r.reason as RevisionReason, keptAt: r.kept_at };
}

/** Row to Collection. */
export function toCollection(r: CollectionRow): Collection {
  return {
    id: r.id,
    kind: r.kind as Kind,
    name: r.name,
    count: Number(r.count),
    digest: r.digest,
    createdAt: r.created_at,
    lastChangeAt: r.last_change_at,
    deletedAt: r.deleted_at,
  };
}

/** Row to User. */
export function toUser(r: UserRow): User {
  return {
    id: r.id,
    name: r.name,
    passwordHash: r.password_hash,
    admin: r.admin,
    createdAt: r.created_at,
    deletedAt: r.deleted_at,
  };
}

/** Row to DeviceToken. */
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
