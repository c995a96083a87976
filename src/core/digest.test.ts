// The collection digest: order-independent, incremental, and equal to the documented definition.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { collectionDigest, digestAdd, digestRemove, digestReplace, EMPTY_DIGEST } from './digest.js';

/** The definition from docs/api.md, written independently with BigInt. */
function reference(items: Array<{ id: string; hash: string }>): string {
  let sum = 0n;
  for (const { id, hash } of items) {
    const h = createHash('sha256').update(Buffer.concat([Buffer.from(id, 'utf8'), Buffer.from([0]), Buffer.from(hash, 'utf8')])).digest('hex');
    sum += BigInt('0x' + h);
  }
  return (sum % (1n << 256n)).toString(16).padStart(64, '0');
}

const item = fc.record({ id: fc.string({ minLength: 1, maxLength: 20 }), hash: fc.string({ minLength: 1, maxLength: 70 }) });

describe('collection digest', () => {
  it('is 64 zeros for an empty collection', () => {
    assert.equal(collectionDigest([]), EMPTY_DIGEST);
  });

  it('matches the documented definition and ignores order', () => {
    fc.assert(
      fc.property(fc.array(item, { maxLength: 30 }), (items) => {
        const d = collectionDigest(items);
        assert.equal(d, reference(items));
        assert.equal(collectionDigest([...items].reverse()), d);
      }),
    );
  });

  it('adding then removing returns to where it was, with wrap-around at 2^256', () => {
    fc.assert(
      fc.property(fc.array(item, { maxLength: 10 }), item, (items, extra) => {
        const d = collectionDigest(items);
        const added = digestAdd(d, extra.id, extra.hash);
        assert.equal(added, reference([...items, extra]));
        assert.equal(digestRemove(added, extra.id, extra.hash), d);
        assert.equal(digestRemove(EMPTY_DIGEST, extra.id, extra.hash).length, 64);
        assert.equal(digestAdd(digestRemove(EMPTY_DIGEST, extra.id, extra.hash), extra.id, extra.hash), EMPTY_DIGEST);
      }),
    );
  });

  it('replaces one version of an item by another', () => {
    const d = collectionDigest([{ id: 'a', hash: 'h1' }, { id: 'b', hash: 'x' }]);
    assert.equal(digestReplace(d, 'a', 'h1', 'h2'), collectionDigest([{ id: 'a', hash: 'h2' }, { id: 'b', hash: 'x' }]));
    assert.equal(digestReplace(d, 'a', 'h1', null), collectionDigest([{ id: 'b', hash: 'x' }]));
  });
});
