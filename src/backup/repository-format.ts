// What backup objects contain and how they are named (the format is described in docs/backup-format.md).
import type { Collection, DeviceToken, User } from '../core/model.js';
import type { DavPropertyRow, LogRecord } from '../core/ports/record-store.js';

/** Repository format written by this code. */
export const REPOSITORY_FORMAT = 1;

/** The `config` object: written once when the repository is created. */
export interface RepositoryConfig {
  format: number;
  repositoryId: string;
  createdAt: string;
  encryption: null | {
    cipher: 'aes-256-gcm';
    kdf: 'scrypt';
    /** base64 */
    salt: string;
    N: number;
    r: number;
    p: number;
    /** hex HMAC-SHA256(key, "keepsake backup key check " + repositoryId) */
    keyCheck: string;
  };
}

/** Which server wrote an object (restores bump the epoch). */
export interface WriterIdentity {
  id: string;
  epoch: number;
}

/** A user's account and device tokens (token hashes only; `lastUsedAt` is informative). */
export interface AccountState {
  user: User;
  tokens: DeviceToken[];
}

/** A change segment: the user's log records in (fromSeq, toSeq], plus account changes. */
export interface SegmentPayload {
  format: number;
  userId: string;
  /** 1, 2, 3, … without gaps per user. */
  n: number;
  fromSeq: number;
  toSeq: number;
  shippedAt: string;
  server: WriterIdentity;
  /** Every collection as of `toSeq`, with the `count` and `digest` the store had then. */
  collections: Collection[];
  /** Present when the account or tokens changed since the previous segment (always in segment 1). */
  account?: AccountState;
  /** Present when the blob refs changed since the previous segment (always in segment 1): the whole sorted list. */
  blobRefs?: string[];
  /** Present when the DAV properties changed since the previous segment (always in segment 1 from 2026-11-25 on): the whole sorted list. */
  davProperties?: DavPropertyRow[];
  /** Fingerprint of account (without token `lastUsedAt`), blob refs and DAV properties after this segment. */
  metaHash: string;
  records: LogRecord[];
}

/** One collection inside a snapshot: its records are either in a `data/…` object or inline. */
export interface SnapshotCollection {
  collection: Collection;
  /** The `data/…` object holding the collection's records (absent when they are inline). */
  object?: string;
  /**
   * The collection's records (item rows and revisions) inline, for small collections: a snapshot of
   * a user with little data is then one object instead of one per collection (format 1 readers
   * from 2026-11 on; older snapshots always name an `object`).
   */
  records?: LogRecord[];
  items: number;
  revisions: number;
}

/** A snapshot manifest: the whole user as of `seq` (= the end of segment `segment`). */
export interface SnapshotPayload {
  format: number;
  userId: string;
  seq: number;
  segment: number;
  takenAt: string;
  server: WriterIdentity;
  account: AccountState;
  blobRefs: string[];
  /** Every DAV property row of the user (absent in snapshots written before 2026-11-25). */
  davProperties?: DavPropertyRow[];
  metaHash: string;
  collections: SnapshotCollection[];
}

/** A snapshot's data for one collection: its item rows and revisions exactly as stored. */
export interface SnapshotDataPayload {
  userId: string;
  collection: string;
  records: LogRecord[];
}

/** A checkpoint: a labelled, verified set of snapshots, one per user; pinned against prune. */
export interface CheckpointPayload {
  label: string;
  takenAt: string;
  /** userId → snapshot object name. */
  snapshots: Record<string, string>;
  verified: boolean;
}

/** The result of one `verify` run, kept in the repository so status and prune can see it. */
export interface VerificationPayload {
  at: string;
  /** `rolling`: a slice of the server's rolling re-read of every object (written only when it found damage). */
  mode: 'full' | 'sample' | 'recent' | 'rolling';
  ok: boolean;
  objectsChecked: number;
  bytesChecked: number;
  usersRestored: number;
  problems: VerifyProblem[];
}

/** One thing verify found wrong. */
export interface VerifyProblem {
  object?: string;
  users: string[];
  problem: string;
}

/** A restore lease: objects a running restore reads; prune keeps them until `until`. */
export interface RestoreLeasePayload {
  at: string;
  until: string;
  purpose: string;
  objects: string[];
}

/** A prune mark: objects found unneeded at `at`, deleted by a later sweep once the grace period passed. */
export interface PruneMarkPayload {
  at: string;
  graceUntil: string;
  objects: string[];
}

const pad = (n: number, w: number) => String(n).padStart(w, '0');

/** Object names. User ids that are not plain `[A-Za-z0-9_-]` are hex-encoded behind an `x`. */
export const names = {
  config: 'config',
  userKey(userId: string): string {
    return /^[A-Za-z0-9_-]{1,200}$/.test(userId) && !userId.startsWith('x') ? userId : `x${Buffer.from(userId, 'utf8').toString('hex')}`;
  },
  userFromKey(key: string): string {
    return key.startsWith('x') ? Buffer.from(key.slice(1), 'hex').toString('utf8') : key;
  },
  userPrefix(userId: string): string {
    return `users/${names.userKey(userId)}/`;
  },
  segment(userId: string, n: number, fromSeq: number, toSeq: number): string {
    return `${names.userPrefix(userId)}seg/${pad(n, 10)}-${pad(fromSeq, 12)}-${pad(toSeq, 12)}`;
  },
  snapshot(userId: string, seq: number, n: number): string {
    return `${names.userPrefix(userId)}snap/${pad(seq, 12)}-${pad(n, 10)}`;
  },
  /** Written by prune before it deletes a user's old segments: coverage is checked from here on. */
  floor(userId: string, seq: number, n: number): string {
    return `${names.userPrefix(userId)}floor/${pad(seq, 12)}-${pad(n, 10)}`;
  },
  blob(hash: string): string {
    const hex = hash.replace(/^sha256:/, '');
    return `blobs/${hex.slice(0, 2)}/${hex}`;
  },
  data(hex: string): string {
    return `data/${hex.slice(0, 2)}/${hex}`;
  },
  stamp(at: string): string {
    return at.replace(/[-:]/g, '');
  },
  checkpoint(at: string, label: string): string {
    const slug = label.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 40) || 'checkpoint';
    return `checkpoints/${names.stamp(at)}-${slug}`;
  },
  verification(at: string, nonce: string): string {
    return `verifications/${names.stamp(at)}-${nonce}`;
  },
  lease(at: string, nonce: string): string {
    return `leases/${names.stamp(at)}-${nonce}`;
  },
  pruneMark(at: string, nonce: string): string {
    return `prune/${names.stamp(at)}-${nonce}`;
  },
  /** Written by prune's sweep before it deletes photo blobs: `{at, objects}` (blob object names). */
  prunedBlobs(at: string, nonce: string): string {
    return `pruned/${names.stamp(at)}-${nonce}`;
  },
};

/** A segment as its name describes it. */
export interface SegmentRef {
  name: string;
  userId: string;
  n: number;
  fromSeq: number;
  toSeq: number;
  size: number;
}

/** A snapshot as its name describes it. */
export interface SnapshotRef {
  name: string;
  userId: string;
  seq: number;
  segment: number;
  size: number;
}

const SEGMENT_NAME = /^users\/([A-Za-z0-9_-]+)\/seg\/(\d{10})-(\d{12})-(\d{12})$/;
const SNAPSHOT_NAME = /^users\/([A-Za-z0-9_-]+)\/snap\/(\d{12})-(\d{10})$/;

export function parseSegmentName(name: string, size = 0): SegmentRef | null {
  const m = SEGMENT_NAME.exec(name);
  return m ? { name, userId: names.userFromKey(m[1]), n: Number(m[2]), fromSeq: Number(m[3]), toSeq: Number(m[4]), size } : null;
}

const FLOOR_NAME = /^users\/([A-Za-z0-9_-]+)\/floor\/(\d{12})-(\d{10})$/;

export function parseFloorName(name: string): { seq: number; n: number } | null {
  const m = FLOOR_NAME.exec(name);
  return m ? { seq: Number(m[2]), n: Number(m[3]) } : null;
}

export function parseSnapshotName(name: string, size = 0): SnapshotRef | null {
  const m = SNAPSHOT_NAME.exec(name);
  return m ? { name, userId: names.userFromKey(m[1]), seq: Number(m[2]), segment: Number(m[3]), size } : null;
}
