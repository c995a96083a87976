// The backup-target port: a place that holds write-once backup objects (a directory now; S3, SFTP later).

/** One stored object as `list` reports it. */
export interface BackupObjectInfo {
  /** The object's name, e.g. `users/…/seg/0000000001-000000000000-000000000042`. */
  name: string;
  size: number;
}

/**
 * A backup target stores named, immutable byte objects. Names are relative, use `/` as the
 * separator, and consist only of `[A-Za-z0-9._-]` segments (no empty segment, no `.` or `..`);
 * implementations refuse anything else with an error rather than touching a path outside the
 * target.
 *
 * Contract (checked by `describeBackupTarget` in src/backup/targets/target.contract.ts):
 * - `putIfAbsent` writes the object only if no object of that name exists, and returns
 *   `false` (writing nothing) if one does — existing objects are never overwritten. It resolves
 *   only once the object is durable (file: temp file, fsync, link into place, directory fsync;
 *   S3: a completed conditional PUT). A reader never sees a partly written object: either the
 *   whole object under its name, or nothing. A failure (full disk, permission, network) rejects
 *   and leaves no object under the name.
 * - `get` returns the whole object or `null` when there is no object of that name; it never
 *   throws for "not found".
 * - `rangeGet` returns up to `length` bytes from `offset` (fewer at the end of the object), or
 *   `null` for a missing object.
 * - `list(prefix)` yields every object whose name starts with `prefix`, in ascending name order
 *   (byte order). It includes objects written before the call started; objects written during it
 *   may or may not appear.
 * - `delete` is used only by prune. Deleting a missing object is not an error (idempotent).
 * - Implementations are safe for concurrent calls from one process.
 */
export interface BackupTarget {
  /** Human-readable location, e.g. `file:///mnt/backup`; never contains secrets. */
  readonly description: string;
  putIfAbsent(name: string, bytes: Uint8Array): Promise<boolean>;
  get(name: string): Promise<Uint8Array | null>;
  rangeGet(name: string, offset: number, length: number): Promise<Uint8Array | null>;
  list(prefix: string): AsyncIterable<BackupObjectInfo>;
  delete(name: string): Promise<void>;
  /** Where local files live, for the same-filesystem warning; null for remote targets. */
  localPath(): string | null;
  close(): Promise<void>;
}

/** Object names allowed by the contract. */
export const BACKUP_NAME_PATTERN = /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/;

/** True when `name` is allowed by the contract (and contains no `.`/`..` segment). */
export function isValidBackupName(name: string): boolean {
  return BACKUP_NAME_PATTERN.test(name) && !name.split('/').some((s) => s === '.' || s === '..');
}
