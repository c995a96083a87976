// Batched decompression in verification: the same payloads as one-by-one, and a bad body is still named.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { GUNZIP_BATCH_BYTES, gunzipBodies } from './object-codec.js';
import { InflateBatch } from './verify-inflate.js';
import type { ObjectCheck } from './verify-objects.js';

const payloads = Array.from({ length: 40 }, (_, i) => Buffer.from(JSON.stringify({ user: `u${i}`, records: 'x'.repeat(i * 37) })));
const gz = payloads.map((p) => gzipSync(p));

describe('batched gunzip', () => {
  it('gives every body exactly what decompressing it alone gives', () => {
    const out = gunzipBodies(gz);
    assert.ok(out);
    assert.deepEqual(out.map((b) => Buffer.from(b)), payloads);
  });

  it('refuses a batch it cannot split exactly (trailing bytes, a damaged member)', () => {
    assert.equal(gunzipBodies([gz[0], Buffer.concat([gz[1], Buffer.from('junk')]), gz[2]]), null);
    const damaged = Buffer.from(gz[1]);
    damaged[damaged.length - 6] ^= 0xff; // CRC-32 in the trailer
    assert.equal(gunzipBodies([gz[0], damaged, gz[2]]), null);
  });

  it('names the one object that does not decompress and decodes the others', () => {
    const batch = new InflateBatch();
    const results: ObjectCheck[] = gz.map((_, i) => ({ name: `users/u${i}/seg/1`, bytes: 100, type: 'segment' }));
    const bad = Buffer.from(gz[7]);
    bad.fill(0x41, 12, 20); // deflate data replaced: no longer inflates
    results.forEach((r, i) => batch.add(r, i === 7 ? bad : gz[i]));
    batch.flush();
    for (const [i, r] of results.entries()) {
      if (i === 7) {
        assert.equal(r.body, undefined);
        assert.equal(r.type, undefined);
        assert.match(r.problem ?? '', /backup object users\/u7\/seg\/1 does not decompress/);
      } else {
        assert.equal(r.problem, undefined);
        assert.deepEqual(Buffer.from(r.body!), payloads[i]);
      }
    }
  });

  it('splits a batch larger than one zlib call takes', () => {
    const big = Array.from({ length: 3 }, () => randomBytes(GUNZIP_BATCH_BYTES / 2)); // incompressible
    const batch = new InflateBatch();
    const results: ObjectCheck[] = big.map((_, i) => ({ name: `data/00/${i}`, bytes: 0, type: 'snapshotData' }));
    results.forEach((r, i) => batch.add(r, gzipSync(big[i], { level: 1 })));
    batch.flush();
    results.forEach((r, i) => assert.ok(Buffer.from(r.body!).equals(big[i])));
  });
});
