// A backup target unreachable when `keepsake serve` starts: the server serves, reports the target failing, retries, catches up without a gap.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { openRepository } from '../../src/backup/repository.js';
import { coverageGaps, replayUser } from '../../src/backup/replay.js';
import { openFileTarget } from '../../src/backup/targets/file/file-target.js';
import { prepareServeBackup } from '../../src/backup/serve-backup.js';
import { resolveConfig } from '../../src/config/config-schema.js';
import { MemoryBlobStore } from '../../src/store/memory/blob-store.js';
import { MemoryRecordStore } from '../../src/store/memory/record-store.js';
import { runCli, startServe, stopped } from '../helpers/cli.js';
import { basic, call } from '../helpers/test-server.js';
import { assertSameAsStore, cleanTempDirs, COLLECTIONS, eventually, newUser, note, NOW, tempDir } from './backup-helpers.js';

after(cleanTempDirs);


describe('backup target unreachable at start-up', () => {
  it('keepsake serve starts and serves, says the target is failing (log, status, metrics), and catches up with no gap once it is mounted', async () => {
    const dir = tempDir();
    const data = join(dir, 'data');
    const mountPoint = join(dir, 'nas'); // does not exist yet: the share is "not mounted"
    const repoDir = join(mountPoint, 'keepsake');
    assert.equal((await runCli(['user', 'add', 'gus', '--data', data, '--password-stdin'], { input: 'gus-password\n' })).code, 0);
    const server = await startServe(['--data', data, '--backup', repoDir]);
    try {
      assert.match(server.output(), /BACKUP TARGET UNREACHABLE at start-up/);
      const tok = await call(server.url, 'POST', '/api/v1/tokens', { device: 'phone' }, basic('gus', 'gus-password'));
      assert.equal(tok.status, 201, 'logins work without the backup target');
      const auth = { authorization: `Bearer ${tok.body.token}` };
      for (let i = 0; i < 10; i++) {
        const r = await call(server.url, 'POST', '/api/v1/changes', { changes: [{ changeId: randomUUID(), collection: 'notes', id: `n${i}`, baseVersion: 0, content: { title: `n${i}`, body: `note ${i}` } }] }, auth);
        assert.equal(r.body.results[0].status, 'applied', 'writes are served');
      }
      const status = async () => (await call(server.url, 'GET', '/api/v1/status', undefined, auth)).body.server.backup;
      const failing = await status();
      assert.equal(failing.targets[0].state, 'failing');
      assert.match(failing.message, /FAILING/);
      assert.equal(failing.upToDate, false);
      const lag0 = failing.targets[0].lagSeconds;
      await new Promise((r) => setTimeout(r, 1100));
      assert.ok((await status()).targets[0].lagSeconds >= lag0 + 1, 'lag grows while the target is away');
      const metrics = await (await fetch(`${server.url}/metrics`)).text();
      assert.match(metrics, /keepsake_backup_target_up\{target="file:\/\/[^"]+\/nas\/keepsake"\} 0/);
      assert.match(metrics, /keepsake_backup_lag_seconds\{target="file:\/\/[^"]+\/nas\/keepsake"\} [1-9]/);

      mkdirSync(mountPoint); // the share comes back
      await eventually(async () => (await status()).upToDate === true, 40_000, 'caught up once the target was back');
      const ok = await status();
      assert.equal(ok.targets[0].state, 'ok');
      assert.equal(ok.targets[0].lagSeconds, 0);
      const after = await (await fetch(`${server.url}/metrics`)).text();
      assert.match(after, /keepsake_backup_target_up\{[^}]+\} 1/);
      assert.match(after, /keepsake_backup_last_ship_timestamp_seconds\{[^}]+\} [1-9]/);
      assert.match(after, /keepsake_backup_damaged_objects\{[^}]+\} 0/);
    } finally {
      server.child.kill('SIGTERM');
      await stopped(server.child);
    }
    const verify = await runCli(['backup', 'verify', '--full', '--data', data, '--backup', repoDir, '--json']);
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
    assert.equal(JSON.parse(verify.stdout)[0].usersRestored, 1);
  });

  it('a target whose path is blocked (a file where its directory should be) is retried with backoff; everything written meanwhile ships without a gap', async () => {
    const dir = tempDir();
    const blocked = join(dir, 'mnt');
    writeFileSync(blocked, 'not a directory');
    const repoDir = join(blocked, 'keepsake');
    const config = resolveConfig({ data: join(dir, 'data') }, {});
    const backup = await prepareServeBackup(config, [repoDir], { pollMs: 20, maxBackoffMs: 100 });
    assert.ok(backup);
    assert.equal(backup.repos.length, 0);
    assert.equal(backup.unreachable.length, 1);
    assert.match(backup.unreachable[0].error, /ENOTDIR|not a directory/);
    const store = new MemoryRecordStore();
    const wrapped = backup.wrapStore(store, new MemoryBlobStore());
    const user = await wrapped.createUser(newUser(), COLLECTIONS);
    await backup.start({ info() {}, warn() {}, error() {} });
    try {
      for (let i = 0; i < 20; i++) await wrapped.applyChanges(user.id, [note(`n${i}`, `v${i}`)], NOW);
      const s = backup.status()[0];
      assert.equal(s.state, 'failing');
      assert.match(s.lastError ?? '', /ENOTDIR|not a directory/);
      assert.equal(backup.health(user.id).upToDate, false);
      // The operator fixes the path; writes keep coming.
      const { rmSync } = await import('node:fs');
      rmSync(blocked);
      mkdirSync(blocked);
      for (let i = 20; i < 30; i++) await wrapped.applyChanges(user.id, [note(`n${i}`, `v${i}`)], NOW);
      await eventually(() => backup.health(user.id).upToDate === true, 10_000, 'caught up');
      assert.equal(backup.status()[0].state, 'ok');
    } finally {
      await backup.stop();
    }
    const repo = await openRepository(await openFileTarget(repoDir), { key: null, create: false });
    const index = await repo.userIndex(user.id);
    assert.deepEqual(coverageGaps(index), []);
    await assertSameAsStore(store, user.id, await replayUser(repo, index));
  });

  it('a wrong key is still a start-up error, not a retry', async () => {
    const dir = tempDir();
    const repoDir = join(dir, 'repo');
    await openRepository(await openFileTarget(repoDir), { key: 'the-right-key-0123456789' });
    const keyFile = join(dir, 'key');
    writeFileSync(keyFile, 'a-wrong-key-0123456789\n');
    const config = resolveConfig({ data: join(dir, 'data'), backupKeyFile: keyFile }, {});
    await assert.rejects(prepareServeBackup(config, [repoDir]), (e: Error & { code?: string }) => e.code === 'invalid_config' && /wrong backup key/.test(e.message));
  });
});
