// The JSON sync protocol's types and version: imported by the server and the client library alike.

/** Protocol version; bumped only for incompatible changes. Sent as `protocol` in /api/v1/status. */
export const PROTOCOL_VERSION = 1;

/** The six kinds of personal data Keepsake keeps. Order is the default restore priority. */
export const KINDS = ['contacts', 'calendar', 'notes', 'tasks', 'photos', 'scores'] as const;
export type Kind = (typeof KINDS)[number];

/** Largest number of changes accepted in one POST /api/v1/changes. */
export const MAX_BATCH = 1000;

/** Note content: a title and a Markdown body. */
export interface NoteContent {
  title: string;
  body: string;
}

/** Photo metadata; the bytes live in the blob store under `blob`. */
export interface PhotoContent {
  blob: string;
  name: string;
  type: string;
  size: number;
  takenAt?: string;
  /** Folder inside the collection (names joined by `/`), absent at the top (WebDAV subfolders). */
  path?: string;
  /** WebDAV dead properties, `{namespace}name` to XML text. */
  props?: Record<string, string>;
}

/** A game high score. */
export interface ScoreContent {
  game: string;
  score: number;
  achievedAt: string;
  player?: string;
}

/** vCard / iCalendar text for contacts, calendar and tasks; an object for the other kinds. */
export type ItemContent = string | NoteContent | PhotoContent | ScoreContent;

/** An item as it travels over the wire. Tombstones have `deleted: true` and no content. */
export interface WireItem {
  collection: string;
  id: string;
  /** Server-assigned; equals the change-log sequence number of the change that wrote it. */
  version: number;
  /** `sha256:<hex>` of the canonical stored bytes. */
  hash: string;
  /** ISO-8601 time the server committed this version. */
  modified: string;
  deleted: boolean;
  content?: ItemContent;
}

/** Identity of the server's data set. `epoch` changes whenever the data is restored or replaced. */
export interface ServerIdentity {
  id: string;
  epoch: number;
}

/** GET /api/v1/changes response. */
export interface ChangesResponse {
  server: ServerIdentity;
  changes: WireItem[];
  cursor: string;
  more: boolean;
}

/** One change a device pushes. `baseVersion` is the version the device last saw (null or 0: new item). */
export interface PushChange {
  changeId: string;
  collection: string;
  id: string;
  baseVersion: number | null;
  deleted?: boolean;
  content?: unknown;
}

/** POST /api/v1/changes request. */
export interface PushRequest {
  changes: PushChange[];
  confirmMassDelete?: boolean;
}

/** Stable error object carried in every 4xx/5xx body and in rejected push results. */
export interface WireError {
  code: string;
  message: string;
  details?: Record<string, unknown>;
}

/** The outcome of one pushed change. */
export type PushResult =
  /** `item` carries no `content`: the device already has it. */
  | { changeId: string; status: 'applied'; item: WireItem }
  | { changeId: string; status: 'duplicate'; item: WireItem | null }
  | { changeId: string; status: 'conflict'; item: WireItem; revision: number }
  | { changeId: string; status: 'rejected'; error: WireError };

/** POST /api/v1/changes response. */
export interface PushResponse {
  server: ServerIdentity;
  results: PushResult[];
}

/** A collection as listed by GET /api/v1/collections. */
export interface WireCollection {
  id: string;
  kind: Kind;
  name: string;
  count: number;
  /** Order-independent digest of live items; see `collectionDigest` in core/digest.ts and docs/api.md. */
  digest: string;
}

/** A kept earlier version of an item. */
export interface WireRevision {
  collection: string;
  id: string;
  version: number;
  hash: string;
  modified: string;
  deleted: boolean;
  /** Why the revision exists: `overwritten`, `deleted`, or `conflict` (a losing concurrent edit). */
  reason: 'overwritten' | 'deleted' | 'conflict';
  keptAt: string;
  content?: ItemContent;
}

/** Cursor text: `<epoch>.<seq>`; clients treat it as opaque. */
export function formatCursor(epoch: number, seq: number): string {
  return `${epoch}.${seq}`;
}
