// Content hashes: `sha256:<hex>` of canonical bytes. node:crypto is computation, not I/O.
import { hash } from 'node:crypto';

/** `sha256:<hex>` of the UTF-8 bytes of `text` (or of raw bytes). */
export function contentHash(data: string | Uint8Array): string {
  // One-shot crypto.hash: about half the cost of createHash().update().digest() for small inputs.
  return 'sha256:' + hash('sha256', data, 'hex');
}

const HASH_RE = /^sha256:[0-9a-f]{64}$/;

/** True when `s` is a well-formed `sha256:<64 lowercase hex>` name. */
export function isContentHash(s: unknown): s is string {
  return typeof s === 'string' && HASH_RE.test(s);
}
