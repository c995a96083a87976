// The put worker of a directory target: what it writes reads back as written, once, and failures reach the shipper.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { openRepository } from '../../repository.js';
import { openFileTarget } from './file-target.js';
import { FilePutWorker } from './put-pool.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function freshDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'keepsake-put-worker-'));
  dirs.push(d);
  return d;
}

describe('FilePutWorker', () => {
  for (const key of [null, 'a backup passphrase']) {
    it(`writes objects the repository reads back intact, once${key ? ' (encrypted)' : ''}`, async () => {
      const root = join(freshDir(), 'repo');
      const repo = await openRepository(await openFileTarget(root), { key });
      const sut = new FilePutWorker(root, repo.objectKey());
      try {
        const name = 'users/u1/seg/0000000001-000000000000-000000000002';
        const first = await sut.put(name, 'segment', JSON.stringify({ n: 1, records: ['a', 'b'] }), true);
        assert.equal(first.created, true);
        assert.ok(first.bytes > 48);
        // Write-once: a second put of the name keeps the first content.
        const again = await sut.put(name, 'segment', JSON.stringify({ n: 1, records: ['other'] }), true);
        assert.deepEqual(again, { created: false, bytes: 0 });
        assert.deepEqual(JSON.parse((await repo.get(name, 'segment')).toString('utf8')), { n: 1, records: ['a', 'b'] });
        const photo = new Uint8Array([1, 2, 3, 4, 5]);
        assert.equal((await sut.put('blobs/ab/abcd', 'blob', photo, false)).created, true);
        assert.deepEqual([...(await repo.get('blobs/ab/abcd', 'blob'))], [1, 2, 3, 4, 5]);
        assert.deepEqual(readdirSync(join(root, '.tmp')), [], 'no temp files left behind');
      } finally {
        await sut.close();
      }
    });
  }

  it('rejects when the target cannot be written, leaving no object, and works again once it can', { skip: process.getuid?.() === 0 ? 'root ignores permissions' : false }, async () => {
    const root = join(freshDir(), 'repo');
    const repo = await openRepository(await openFileTarget(root), { key: null });
    const sut = new FilePutWorker(root, null);
    try {
      chmodSync(join(root, '.tmp'), 0o500);
      await assert.rejects(sut.put('users/u1/seg/x', 'segment', '{}', true), (e: NodeJS.ErrnoException) => e.code === 'EACCES');
      assert.equal(await repo.target.get('users/u1/seg/x'), null);
      chmodSync(join(root, '.tmp'), 0o700);
      assert.equal((await sut.put('users/u1/seg/x', 'segment', '{}', true)).created, true);
    } finally {
      chmodSync(join(root, '.tmp'), 0o700);
      await sut.close();
    }
  });

  it('rejects when the target directory is gone (an unmounted disk), naming the error', async () => {
    const root = join(freshDir(), 'repo');
    await openRepository(await openFileTarget(root), { key: null });
    const sut = new FilePutWorker(root, null);
    try {
      rmSync(root, { recursive: true, force: true });
      await assert.rejects(sut.put('users/u1/seg/y', 'segment', '{}', true), (e: NodeJS.ErrnoException) => e.code === 'ENOENT');
    } finally {
      await sut.close();
    }
  });
});
