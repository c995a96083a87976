// Content hashes: `sha256:<hex>` of canonical bytes. node:crypto is computation, not I/O.
import { createHash } from 'node:crypto';

/** `sha256:<hex>` of the UTF-8 bytes of `text` (or of raw bytes). */
export function contentHash(data: string | Uint8Array): string {
  return 'sha256:' + createHash('sha256').update(data).digest('hex');
}

const HASH_RE = /^sha256:[0-9a-f]{64}$/;

/** True when `s` is a well-formed `sha256:<64 lowercase hex>` name. */
export function isContentHash(s: unknown): s is string {
  return typeof s === 'string' && HASH_RE.test(s);
}
