// A purged account's photo files leave the blob store; bytes another account also uploaded stay.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { sweepBlobs } from '../../src/core/accounts/blob-sweep.js';
import { png, sha256 } from '../helpers/fixtures.js';
import { startTestServer } from '../helpers/test-server.js';

const fileOf = (dir: string, hash: string) => {
  const hex = hash.slice('sha256:'.length);
  return join(dir, 'blobs', hex.slice(0, 2), hex.slice(2, 4), hex);
};

describe('blob sweep after a purge', () => {
  it('removes the photo files only the purged account had, keeps shared ones and those of soft-deleted accounts', async () => {
    const server = await startTestServer({ kind: 'sqlite' });
    try {
      const [ann, bob, cat] = [await server.login('ann'), await server.login('bob'), await server.login('cat')];
      const own = png('only ann');
      const shared = png('ann and bob');
      const cats = png('only cat');
      for (const [who, img] of [[ann, own], [ann, shared], [bob, shared], [cat, cats]] as const) {
        assert.equal((await who.call('PUT', `/api/v1/blobs/${sha256(img)}`, img, { 'content-type': 'image/png' })).status < 300, true);
      }
      const k = server.keepsake;
      await k.accounts.deleteUser('ann');
      await k.accounts.deleteUser('cat');
      // Nothing is swept while the accounts are only soft-deleted (they can still be brought back).
      assert.deepEqual((await sweepBlobs(k.store, k.blobs, Date.now() + 60_000)).removed, []);
      await k.store.purgeDeletedUser((await k.store.findUserByName('ann'))!.id, new Date(Date.now() + 1000).toISOString());

      // Right after an upload the lease protects every blob (its reference may be on its way).
      assert.deepEqual((await sweepBlobs(k.store, k.blobs, Date.now() - 3_600_000)).removed, []);
      const swept = await sweepBlobs(k.store, k.blobs, Date.now() + 60_000);
      assert.deepEqual(swept.removed, [sha256(own)]);
      assert.equal(swept.checked, 3);
      assert.equal(existsSync(fileOf(server.dir, sha256(own))), false, 'the file is gone from disk');
      const got = await bob.call('GET', `/api/v1/blobs/${sha256(shared)}`);
      assert.equal(got.status, 200, 'bob still has the photo he shared with ann');
      assert.ok(existsSync(fileOf(server.dir, sha256(cats))), 'a soft-deleted account keeps its files until it is purged');
    } finally {
      await server.close();
    }
  });
});
