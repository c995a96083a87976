// Domain errors: one class with a stable `code` that clients act on; transports map codes to statuses.

/** Every error code Keepsake emits. Published in docs/api.md; never rename one. */
export const ERROR_CODES = {
  invalid_request: 'The request is malformed: wrong JSON types, unknown or missing fields.',
  invalid_json: 'The body is not valid JSON.',
  body_too_large: 'The request body exceeds the configured limit.',
  batch_too_large: 'More changes in one request than allowed (1,000).',
  invalid_id: 'An id is empty, too long, or contains path or control characters.',
  invalid_vcard: 'The contact is not a valid vCard 3.0 or 4.0.',
  invalid_icalendar: 'The event or task is not valid iCalendar with exactly one VEVENT/VTODO UID.',
  uid_mismatch: 'The UID inside the vCard/iCalendar differs from the item id.',
  invalid_content: 'The item content does not match its kind (note, photo or score fields).',
  unknown_kind: 'No such kind of data.',
  collection_not_found: 'No such collection for this user.',
  collection_exists: 'A collection with this id already exists.',
  item_not_found: 'No such item.',
  revision_not_found: 'No such revision (it may have expired).',
  not_found: 'No such resource.',
  blob_hash_mismatch: 'The uploaded bytes do not hash to the name they were sent under.',
  blob_too_large: 'The blob exceeds the configured size limit.',
  blob_type_unsupported: 'The blob is not a JPEG, PNG, HEIC, WebP or GIF image.',
  blob_missing: 'The photo refers to a blob that was not uploaded.',
  bad_cursor: 'The cursor is malformed or from the future.',
  cursor_expired: 'The cursor is from another server or epoch: reconcile and sync from the start.',
  mass_delete_guard: 'The request would delete a large share of a collection; resend with confirmMassDelete.',
  unauthorized: 'Missing or wrong credentials.',
  forbidden: 'The account may not do this.',
  rate_limited: 'Too many failed logins; wait and retry.',
  user_exists: 'A user with this name already exists.',
  user_not_found: 'No such user.',
  invalid_config: 'A configuration value is invalid.',
  restore_out_of_range: 'The requested point in time is older than the kept history; restore it from a backup.',
  restoring: 'This data is being restored from backup; retry after the given time.',
  unavailable: 'The store is unavailable; retry.',
  storage_full: "The server's disk is full: the write was refused and changed nothing; retry once the operator frees space.",
  internal: 'An unexpected error; nothing was changed by the failing operation.',
  // DAV (CalDAV/CardDAV/WebDAV) codes, see docs/dav-clients.md.
  invalid_xml: 'The DAV request body is not well-formed XML, or not the XML the method expects.',
  precondition_failed: 'If-Match / If-None-Match did not hold: the resource changed or already exists.',
  invalid_sync_token: 'The sync token is unknown or from before a server restore: sync again without a token.',
  unsupported_report: 'The REPORT is not supported on this resource.',
  depth_not_supported: 'The Depth header is not supported here (PROPFIND answers Depth 0 and 1).',
  method_not_allowed: 'The method is not allowed on this resource.',
  parent_missing: 'The folder to create this in (or copy or move it to) does not exist.',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** A domain error. `details` may name the field, item or object concerned. */
export class KeepsakeError extends Error {
  readonly code: ErrorCode;
  readonly details?: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(message, { cause: options.cause });
    this.name = 'KeepsakeError';
    this.code = code;
    this.details = options.details;
  }
}

/** Integrity damage found in stored bytes: names what and where. */
export interface IntegrityProblem {
  user: string;
  collection?: string;
  item?: string;
  blob?: string;
  problem: string;
  hint?: string;
}

/** Shorthand constructor used throughout core. */
export function fail(code: ErrorCode, message: string, details?: Record<string, unknown>): never {
  throw new KeepsakeError(code, message, { details });
}

export function isKeepsakeError(e: unknown): e is KeepsakeError {
  return e instanceof KeepsakeError;
}

/** Error codes of a full disk: the OS (ENOSPC, EDQUOT), SQLite (SQLITE_FULL), PostgreSQL (53100 disk_full). */
const DISK_FULL_CODES = new Set(['ENOSPC', 'EDQUOT', 'SQLITE_FULL', '53100']);

/**
 * The error as a KeepsakeError when it is one or when it (or its cause) says the disk is full;
 * otherwise null. Transports call this before falling back to `internal`.
 */
export function asKeepsakeError(e: unknown): KeepsakeError | null {
  if (isKeepsakeError(e)) return e;
  for (let c: unknown = e, depth = 0; c instanceof Error && depth < 5; c = c.cause, depth++) {
    const code = (c as { code?: unknown }).code;
    if (typeof code === 'string' && DISK_FULL_CODES.has(code)) {
      return new KeepsakeError('storage_full', `the server's disk is full (${code}); the write changed nothing — retry once space is freed`, { cause: e });
    }
  }
  return null;
}
