// The item model: users, device tokens, collections, items, revisions, prepared changes.
import type { Kind } from '../protocol/sync-protocol.js';

export type { Kind };

/** An account. `passwordHash` is an scrypt hash string (see accounts/password.ts). */
export interface User {
  id: string;
  name: string;
  passwordHash: string;
  admin: boolean;
  createdAt: string;
  /** Set when the account was soft-deleted; it can be recovered within the retention window. */
  deletedAt: string | null;
}

/** A device's API token. Only the SHA-256 of the token is stored. */
export interface DeviceToken {
  id: string;
  userId: string;
  device: string;
  tokenHash: string;
  createdAt: string;
  lastUsedAt: string | null;
}

/** A user's collection of one kind. `count` and `digest` cover live items and are maintained on every change. */
export interface Collection {
  id: string;
  kind: Kind;
  name: string;
  count: number;
  digest: string;
  createdAt: string;
  /** Time of the last committed item change, or null if none. */
  lastChangeAt: string | null;
  deletedAt: string | null;
}

/**
 * An item as stored. `content` is the canonical stored text (vCard/iCalendar as the client sent
 * it; canonical JSON for notes, photos and scores) and is null for tombstones.
 */
export interface StoredItem {
  collection: string;
  id: string;
  version: number;
  hash: string;
  modified: string;
  deleted: boolean;
  content: string | null;
}

export type RevisionReason = 'overwritten' | 'deleted' | 'conflict';

/** A kept earlier (or losing) version of an item. */
export interface Revision extends StoredItem {
  reason: RevisionReason;
  keptAt: string;
}

/** A change that core has validated and canonicalised, ready for the store to apply atomically. */
export interface PreparedChange {
  changeId: string;
  collection: string;
  id: string;
  /** Version the device based its change on; null or 0 for a new item. */
  baseVersion: number | null;
  deleted: boolean;
  /** Canonical text, or null for a delete. */
  content: string | null;
  /** `sha256:` of `content`, or null for a delete. */
  hash: string | null;
}

/** What the store did with one prepared change. */
export type ChangeOutcome =
  | { status: 'applied'; item: StoredItem }
  | { status: 'duplicate'; item: StoredItem | null }
  | { status: 'conflict'; item: StoredItem; revision: number }
  /** A delete of an item the server never had. */
  | { status: 'missing' };

/** A collection to create (ids are validated by core before they reach a store). */
export interface NewCollection {
  id: string;
  kind: Kind;
  name: string;
}
