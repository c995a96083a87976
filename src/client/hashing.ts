// Content hashes and collection digests computed exactly as the server does, without node:crypto.
//
// The definitions are the server's (docs/api.md, src/core/digest.ts): an item's hash is
// `sha256:<hex>` of its canonical bytes (vCard/iCalendar text as sent, JSON with sorted keys for
// the object kinds), and a collection digest is Σ SHA-256(id ‖ 0x00 ‖ hash) mod 2^256. The SHA-256
// itself is injected so the core runs in a browser (crypto.subtle) as well as in Node.
import { canonicalJson, type JsonValue } from '../core/content/canonical-json.js';
import type { ItemContent } from '../protocol/sync-protocol.js';

/** A SHA-256 implementation: 32 bytes of digest for the given bytes. */
export type Sha256 = (bytes: Uint8Array) => Promise<Uint8Array>;

/** SHA-256 through Web Crypto (`globalThis.crypto.subtle`): Node ≥ 20 and every browser. */
export const webCryptoSha256: Sha256 = async (bytes) =>
  new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', bytes));

/** The collection digest of an empty collection. */
export const EMPTY_DIGEST = '0'.repeat(64);

const encoder = new TextEncoder();

export function toHex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

/** The canonical bytes the server stores (and hashes) for a content value. */
export function canonicalBytes(content: ItemContent): Uint8Array {
  return encoder.encode(typeof content === 'string' ? content : canonicalJson(content as unknown as JsonValue));
}

/** `sha256:<hex>` of raw bytes (photo blobs). */
export async function bytesHash(bytes: Uint8Array, sha256: Sha256): Promise<string> {
  return 'sha256:' + toHex(await sha256(bytes));
}

/** `sha256:<hex>` of an item's canonical bytes: equal to the server's `hash` for the same content. */
export async function contentHash(content: ItemContent, sha256: Sha256): Promise<string> {
  return bytesHash(canonicalBytes(content), sha256);
}

async function term(id: string, hash: string, sha256: Sha256): Promise<Uint8Array> {
  const a = encoder.encode(id);
  const b = encoder.encode(hash);
  const buf = new Uint8Array(a.length + 1 + b.length);
  buf.set(a, 0);
  buf.set(b, a.length + 1);
  return sha256(buf);
}

/** Digest of a set of live items, as 64 lowercase hex digits (see docs/api.md#digest-definition). */
export async function collectionDigest(items: Iterable<{ id: string; hash: string }>, sha256: Sha256): Promise<string> {
  const sum = new Uint8Array(32);
  const terms = await Promise.all([...items].map((it) => term(it.id, it.hash, sha256)));
  for (const t of terms) {
    let carry = 0;
    for (let i = 31; i >= 0; i--) {
      const v = sum[i] + t[i] + carry;
      sum[i] = v & 0xff;
      carry = v >> 8;
    }
  }
  return toHex(sum);
}
