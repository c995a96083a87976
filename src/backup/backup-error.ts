// Errors of the backup subsystem: a stable code, and for damage the object and users concerned.

/** Every code a backup error carries. */
export type BackupErrorCode =
  /** An object's checksum, header or decryption failed: its bytes are damaged. */
  | 'backup_object_corrupt'
  /** An object a reference points to does not exist. */
  | 'backup_object_missing'
  /** The repository is encrypted and no key was given. */
  | 'backup_key_required'
  /** The given key is not the repository's key. */
  | 'backup_key_mismatch'
  /** The object or repository was written by a newer format than this Keepsake reads. */
  | 'backup_format_unsupported'
  /** The target location or option is not usable. */
  | 'backup_target_invalid'
  /** An operation was refused for safety (e.g. prune while verification is failing). */
  | 'backup_refused'
  /** `--durability backup` could not get a write into any target in time. */
  | 'backup_unavailable';

/** A backup failure; `object` names the damaged or missing object when there is one. */
export class BackupError extends Error {
  readonly code: BackupErrorCode;
  readonly object?: string;

  constructor(code: BackupErrorCode, message: string, options: { object?: string; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'BackupError';
    this.code = code;
    this.object = options.object;
  }
}

export function isBackupError(e: unknown): e is BackupError {
  return e instanceof BackupError;
}
