// Order-independent collection digests, maintained incrementally as items change.
//
// Definition (also in docs/api.md, so any client computes the same value):
//   term(id, hash) = SHA-256( UTF-8(id) || 0x00 || UTF-8(hash) ) read as a 256-bit big-endian integer
//   digest         = ( Σ term over live items ) mod 2^256, as 64 lowercase hex digits
// An empty collection has digest "0" * 64. Addition mod 2^256 makes adding and removing an
// item O(1) and the result independent of order.
import { createHash } from 'node:crypto';

const MOD = 1n << 256n;
export const EMPTY_DIGEST = '0'.repeat(64);

function term(id: string, hash: string): bigint {
  const h = createHash('sha256').update(id, 'utf8').update(Buffer.from([0])).update(hash, 'utf8').digest('hex');
  return BigInt('0x' + h);
}

function toHex(n: bigint): string {
  return (((n % MOD) + MOD) % MOD).toString(16).padStart(64, '0');
}

/** Digest after adding a live item (id, hash). */
export function digestAdd(digest: string, id: string, hash: string): string {
  return toHex(BigInt('0x' + digest) + term(id, hash));
}

/** Digest after removing a live item (id, hash). */
export function digestRemove(digest: string, id: string, hash: string): string {
  return toHex(BigInt('0x' + digest) - term(id, hash));
}

/** Digest of a whole set of live items, computed from scratch (scrub, clients). */
export function collectionDigest(items: Iterable<{ id: string; hash: string }>): string {
  let sum = 0n;
  for (const it of items) sum += term(it.id, it.hash);
  return toHex(sum);
}

/** Digest change for replacing `before` (or nothing) with `after` (or nothing). */
export function digestReplace(
  digest: string,
  id: string,
  before: string | null,
  after: string | null,
): string {
  let d = digest;
  if (before !== null) d = digestRemove(d, id, before);
  if (after !== null) d = digestAdd(d, id, after);
  return d;
}
