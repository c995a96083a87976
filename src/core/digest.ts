// Order-independent collection digests, maintained incrementally as items change.
//
// Definition (also in docs/api.md, so any client computes the same value):
//   term(id, hash) = SHA-256( UTF-8(id) || 0x00 || UTF-8(hash) ) read as a 256-bit big-endian integer
//   digest         = ( Σ term over live items ) mod 2^256, as 64 lowercase hex digits
// An empty collection has digest "0" * 64. Addition mod 2^256 makes adding and removing an
// item O(1) and the result independent of order.
import { hash as oneShotHash } from 'node:crypto';

export const EMPTY_DIGEST = '0'.repeat(64);

function term(id: string, hash: string): Buffer {
  return oneShotHash('sha256', `${id}\u0000${hash}`, 'buffer');
}

/** a := a + sign·b mod 2^256, on 32-byte big-endian numbers (byte-wise with carry: cheaper than BigInt). */
function addInto(a: Buffer, b: Buffer, sign: 1 | -1): void {
  let carry = 0;
  for (let i = 31; i >= 0; i--) {
    const v = a[i] + sign * b[i] + carry;
    a[i] = v & 0xff;
    carry = v >> 8; // arithmetic shift: -1 borrows, +1 carries
  }
}

function parse(digest: string): Buffer {
  return Buffer.from(digest, 'hex');
}

/** Digest after adding a live item (id, hash). */
export function digestAdd(digest: string, id: string, hash: string): string {
  const d = parse(digest);
  addInto(d, term(id, hash), 1);
  return d.toString('hex');
}

/** Digest after removing a live item (id, hash). */
export function digestRemove(digest: string, id: string, hash: string): string {
  const d = parse(digest);
  addInto(d, term(id, hash), -1);
  return d.toString('hex');
}

/** Digest of a whole set of live items, computed from scratch (scrub, clients). */
export function collectionDigest(items: Iterable<{ id: string; hash: string }>): string {
  const d = Buffer.alloc(32);
  for (const it of items) addInto(d, term(it.id, it.hash), 1);
  return d.toString('hex');
}

/** Digest change for replacing `before` (or nothing) with `after` (or nothing). */
export function digestReplace(
  digest: string,
  id: string,
  before: string | null,
  after: string | null,
): string {
  if (before === after) return digest;
  const d = parse(digest);
  if (before !== null) addInto(d, term(id, before), -1);
  if (after !== null) addInto(d, term(id, after), 1);
  return d.toString('hex');
}
