// The store's own disk fills up (a real tiny tmpfs; needs root to mount, skipped otherwise):
// writes fail with a clear error, nothing acknowledged is lost, and writing resumes once space returns.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runCli, startServe, stopped } from '../helpers/cli.js';
import { mountTmpfs, unmountAll } from '../helpers/tmpfs.js';
import { png, sha256 } from '../helpers/fixtures.js';
import { basic, call } from '../helpers/test-server.js';

const temps: string[] = [];
after(() => {
  unmountAll();
  for (const d of temps) rmSync(d, { recursive: true, force: true });
});



describe('the store on a full disk', () => {
  it('refuses writes with storage_full, loses nothing acknowledged, and resumes when space returns', async (t) => {
    const root = mkdtempSync(join(tmpdir(), 'keepsake-full-'));
    temps.push(root);
    const data = join(root, 'data');
    if (!mountTmpfs(data, '3m')) return t.skip('cannot mount tmpfs (not root)');
    assert.equal((await runCli(['user', 'add', 'gus', '--data', data, '--password-stdin'], { input: 'gus-password\n' })).code, 0);
    let server = await startServe(['--data', data]);
    const acknowledged = new Map<string, string>();
    try {
      const tok = await call(server.url, 'POST', '/api/v1/tokens', { device: 'phone' }, basic('gus', 'gus-password'));
      const auth = { authorization: `Bearer ${tok.body.token}` };
      const push = (id: string, body: string) =>
        call(server.url, 'POST', '/api/v1/changes', { changes: [{ changeId: randomUUID(), collection: 'notes', id, baseVersion: null, content: { title: id, body } }] }, auth);

      // 8 KiB notes (random text) until the 3 MiB disk is full.
      let refused: Awaited<ReturnType<typeof push>> | null = null;
      for (let i = 0; i < 2000 && refused === null; i++) {
        const body = randomBytes(6000).toString('base64');
        const r = await push(`n${i}`, body);
        if (r.status === 200 && r.body.results[0].status === 'applied') acknowledged.set(`n${i}`, body);
        else refused = r;
      }
      assert.ok(refused, 'the disk filled up');
      assert.ok(acknowledged.size > 10, `some writes went through first (${acknowledged.size})`);
      assert.equal(refused.status, 507, JSON.stringify(refused.body));
      assert.equal(refused.body.error.code, 'storage_full');
      assert.match(refused.body.error.message, /space/i);

      // A photo upload on the full disk gets the same answer, and leaves no partial file served.
      const photo = png('full-disk', 8 * 1024);
      const upload = await fetch(`${server.url}/api/v1/blobs/${sha256(photo)}`, { method: 'PUT', headers: { ...auth, 'content-type': 'application/octet-stream' }, body: photo });
      assert.equal(upload.status, 507, await upload.text());
      assert.equal((await fetch(`${server.url}/api/v1/blobs/${sha256(photo)}`, { headers: auth })).status, 404);

      // Reads keep working on a full disk, and show exactly the acknowledged writes.
      const pulled = await call(server.url, 'GET', '/api/v1/changes?limit=5000', undefined, auth);
      assert.equal(pulled.status, 200);
      assert.deepEqual(new Set(pulled.body.changes.map((c: { id: string }) => c.id)), new Set(acknowledged.keys()));

      // Space returns (the disk is grown in place): writes succeed again without a restart.
      assert.equal(spawnSync('mount', ['-o', 'remount,size=64m', data]).status, 0);
      const again = await push('after', 'written once space returned');
      assert.equal(again.status, 200, JSON.stringify(again.body));
      assert.equal(again.body.results[0].status, 'applied');
      acknowledged.set('after', 'written once space returned');
    } finally {
      server.child.kill('SIGTERM');
      await stopped(server.child);
    }

    // After a restart every acknowledged write is there, byte for byte.
    server = await startServe(['--data', data]);
    try {
      const tok = await call(server.url, 'POST', '/api/v1/tokens', { device: 'laptop' }, basic('gus', 'gus-password'));
      const pulled = await call(server.url, 'GET', '/api/v1/changes?limit=5000', undefined, { authorization: `Bearer ${tok.body.token}` });
      const got = new Map(pulled.body.changes.map((c: { id: string; content: { body: string } }) => [c.id, c.content.body]));
      assert.equal(got.size, acknowledged.size);
      for (const [id, body] of acknowledged) assert.equal(got.get(id), body, `note ${id} survived`);
    } finally {
      server.child.kill('SIGTERM');
      await stopped(server.child);
    }
  });
});
