// Object codec: round trips, and every kind of damage is caught and named.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { BackupError } from './backup-error.js';
import { checkObject, decodeObject, encodeObject, HEADER_BYTES } from './object-codec.js';

const key = randomBytes(32);
const payload = Buffer.from(JSON.stringify({ hello: 'world', n: [1, 2, 3] }));
const corrupt = (name: string) => (e: unknown) => e instanceof BackupError && e.code === 'backup_object_corrupt' && e.object === name && e.message.includes(name);

describe('object codec', () => {
  it('round-trips plain, compressed and encrypted payloads', () => {
    for (const opts of [{ compress: false, key: null }, { compress: true, key: null }, { compress: true, key }, { compress: false, key }]) {
      const bytes = encodeObject('a/b', 'segment', payload, opts);
      assert.deepEqual(checkObject('a/b', bytes).type, 'segment');
      assert.deepEqual(decodeObject('a/b', bytes, opts.key, 'segment'), payload);
    }
  });

  it('names the object for a flipped bit anywhere, truncation, extension and a wrong magic', () => {
    const bytes = encodeObject('x', 'snapshot', payload, { compress: true, key: null });
    for (const at of [0, 5, 9, 20, HEADER_BYTES, bytes.length - 1]) {
      const bad = Buffer.from(bytes);
      bad[at] ^= 0x10;
      assert.throws(() => decodeObject('x', bad, null), (e: unknown) => e instanceof BackupError && e.object === 'x', `byte ${at}`);
    }
    assert.throws(() => checkObject('x', bytes.subarray(0, bytes.length - 1)), corrupt('x'));
    assert.throws(() => checkObject('x', Buffer.concat([bytes, Buffer.from([0])])), corrupt('x'));
    assert.throws(() => checkObject('x', bytes.subarray(0, 10)), corrupt('x'));
  });

  it('refuses an encrypted object under another name or key, and without a key', () => {
    const bytes = encodeObject('users/a/seg/1', 'segment', payload, { compress: true, key });
    assert.throws(() => decodeObject('users/b/seg/1', bytes, key), corrupt('users/b/seg/1'));
    assert.throws(() => decodeObject('users/a/seg/1', bytes, randomBytes(32)), corrupt('users/a/seg/1'));
    assert.throws(() => decodeObject('users/a/seg/1', bytes, null), (e: unknown) => e instanceof BackupError && e.code === 'backup_key_required');
    assert.ok(!bytes.includes(Buffer.from('hello')), 'no plaintext in an encrypted object');
  });

  it('reads format 1 objects (checksum over the body itself) and names damage in them', () => {
    const head = Buffer.alloc(16);
    Buffer.from('KSBK').copy(head);
    head[4] = 1;
    head[5] = 5; // blob
    head.writeBigUInt64BE(BigInt(payload.length), 8);
    const v1 = Buffer.concat([head, createHash('sha256').update(head).update(payload).digest(), payload]);
    assert.equal(checkObject('blobs/x', v1).format, 1);
    assert.deepEqual(decodeObject('blobs/x', v1, null, 'blob'), payload);
    for (const at of [4 + 1, 20, HEADER_BYTES + 3]) {
      const bad = Buffer.from(v1);
      bad[at] ^= 0x01;
      assert.throws(() => decodeObject('blobs/x', bad, null), corrupt('blobs/x'), `byte ${at}`);
    }
  });

  it('refuses a newer format and the wrong object type', () => {
    const bytes = encodeObject('x', 'blob', payload, { compress: false, key: null });
    assert.throws(() => decodeObject('x', bytes, null, 'segment'), corrupt('x'));
    const newer = Buffer.from(bytes);
    newer[4] = 9;
    assert.throws(() => checkObject('x', newer), (e: unknown) => e instanceof BackupError && e.code === 'backup_format_unsupported');
  });
});
