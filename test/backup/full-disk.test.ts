// A real full backup disk (a tiny tmpfs; needs root, skipped otherwise): the server keeps serving, reports lag, catches up.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { openFileTarget } from '../../src/backup/targets/file/file-target.js';
import { sameFilesystemWarnings } from '../../src/backup/open-backup.js';
import { runCli, startServe, stopped } from '../helpers/cli.js';
import { mountTmpfs, unmountAll } from '../helpers/tmpfs.js';
import { basic, call } from '../helpers/test-server.js';
import { cleanTempDirs, eventually, tempDir } from './backup-helpers.js';

after(() => {
  unmountAll();
  cleanTempDirs();
});



describe('backup target on a full disk', () => {
  it('warns when a target shares the store filesystem, not when it is on another', async (t) => {
    const dir = tempDir();
    const other = join(dir, 'other-fs');
    if (!mountTmpfs(other, '1m')) return t.skip('cannot mount tmpfs (not root)');
    const same = await openFileTarget(join(dir, 'same'));
    const apart = await openFileTarget(join(other, 'repo'));
    const warnings = await sameFilesystemWarnings([same, apart], [join(dir, 'data')]);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /SAME FILESYSTEM/);
    assert.ok(warnings[0].includes(same.description));
  });

  it('keeps serving while the target is full, reports it, and catches up when space returns', async (t) => {
    const dir = tempDir();
    const repoDir = join(dir, 'backup');
    if (!mountTmpfs(repoDir, '200k')) return t.skip('cannot mount tmpfs (not root)');
    const data = join(dir, 'data');
    assert.equal((await runCli(['user', 'add', 'fay', '--data', data, '--password-stdin'], { input: 'fay-password\n' })).code, 0);
    const server = await startServe(['--data', data, '--backup', repoDir]);
    try {
      const tok = await call(server.url, 'POST', '/api/v1/tokens', { device: 'phone' }, basic('fay', 'fay-password'));
      const auth = { authorization: `Bearer ${tok.body.token}` };
      const status = async () => (await call(server.url, 'GET', '/api/v1/status', undefined, auth)).body.server.backup;
      // Random text barely compresses: 60 notes of 8 KiB overflow a 200 KiB disk.
      for (let i = 0; i < 60; i++) {
        const body = randomBytes(6000).toString('base64');
        const r = await call(server.url, 'POST', '/api/v1/changes', { changes: [{ changeId: randomUUID(), collection: 'notes', id: `n${i}`, baseVersion: 0, content: { title: `n${i}`, body } }] }, auth);
        assert.equal(r.status, 200, 'writes are served while the backup disk is full');
        assert.equal(r.body.results[0].status, 'applied');
      }
      await eventually(async () => (await status()).targets[0].state === 'failing', 10_000, 'target reported failing');
      const failing = await status();
      assert.match(failing.message, /FAILING/);
      assert.equal(failing.upToDate, false);
      await new Promise((r) => setTimeout(r, 1100));
      assert.ok((await status()).targets[0].lagSeconds >= 1, 'lag grows');
      const metrics = await (await fetch(`${server.url}/metrics`)).text();
      assert.match(metrics, /keepsake_backup_target_up\{[^}]+\} 0/);

      assert.equal(spawnSync('mount', ['-o', 'remount,size=16m', repoDir]).status, 0);
      await eventually(async () => (await status()).upToDate === true, 40_000, 'caught up after space returned');
      assert.equal((await status()).targets[0].lagSeconds, 0);
    } finally {
      server.child.kill('SIGTERM');
      await stopped(server.child);
    }
    const verify = await runCli(['backup', 'verify', '--full', '--data', data, '--backup', repoDir]);
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
  });
});
