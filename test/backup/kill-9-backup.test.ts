// kill -9 of a server shipping backups with durability=backup, restart, verify; CLI exit codes on damage and a wrong key.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { openSqliteStore } from '../../src/store/sqlite/record-store.js';
import { openRepository } from '../../src/backup/repository.js';
import { replayUser } from '../../src/backup/replay.js';
import { openFileTarget } from '../../src/backup/targets/file/file-target.js';
import { vcard } from '../helpers/fixtures.js';
import { runCli, startServe, stopped } from '../helpers/cli.js';
import { basic, call } from '../helpers/test-server.js';
import { assertSameAsStore, cleanTempDirs, eventually, tempDir } from './backup-helpers.js';

after(cleanTempDirs);


describe('backup across kill -9', () => {
  it('every write acknowledged with durability=backup is in the backup; restart resumes without gap or duplicate; verify is clean', async () => {
    const dir = tempDir();
    const data = join(dir, 'data');
    const repoDir = join(dir, 'backup');
    const add = await runCli(['user', 'add', 'dora', '--data', data, '--password-stdin'], { input: 'dora-password\n' });
    assert.equal(add.code, 0, add.stderr);
    const args = ['--data', data, '--backup', repoDir, '--durability', 'backup'];
    const first = await startServe(args);
    first.child.on('exit', () => {});
    const tok = await call(first.url, 'POST', '/api/v1/tokens', { device: 'phone' }, basic('dora', 'dora-password'));
    const auth = { authorization: `Bearer ${tok.body.token}` };
    const acknowledged = new Map<string, { version: number; hash: string }>();
    let stop = false;
    const writer = async (w: number) => {
      for (let i = 0; !stop; i++) {
        const id = `w${w}-${i}`;
        const kind = i % 2 ? 'contacts' : 'notes';
        const content = kind === 'contacts' ? vcard(id, `Person ${id}`) : { title: id, body: `body of ${id}` };
        try {
          const r = await call(first.url, 'POST', '/api/v1/changes', { changes: [{ changeId: randomUUID(), collection: kind, id, baseVersion: 0, content }] }, auth);
          const res = r.body.results?.[0];
          if (res?.status === 'applied') acknowledged.set(`${kind}/${id}`, { version: res.item.version, hash: res.item.hash });
        } catch {
          return;
        }
      }
    };
    const writers = Array.from({ length: 8 }, (_, w) => writer(w));
    // Kill mid-load once enough writes went through (on a busy machine that takes longer than usual).
    for (const start = Date.now(); acknowledged.size < 40 && Date.now() - start < 30_000; ) await new Promise((r) => setTimeout(r, 50));
    first.child.kill('SIGKILL');
    stop = true;
    await Promise.all(writers);
    await stopped(first.child);
    assert.ok(acknowledged.size > 20, `only ${acknowledged.size} writes were acknowledged`);

    // Before any restart: the backup alone holds every acknowledged write.
    const repo = await openRepository(await openFileTarget(repoDir), { key: null, create: false });
    const users = await repo.allUserIndexes();
    assert.equal(users.size, 1);
    const [index] = users.values();
    const state = await replayUser(repo, index);
    for (const [key, want] of acknowledged) {
      const [collection, id] = key.split('/');
      const got = [...state.items.values()].find((i) => i.collection === collection && i.id === id);
      assert.equal(got?.hash, want.hash, `${key} acknowledged but not in the backup`);
      assert.equal(got?.version, want.version);
    }

    const second = await startServe(args);
    try {
      const st = async () => (await call(second.url, 'GET', '/api/v1/status', undefined, auth)).body.server.backup;
      await call(second.url, 'POST', '/api/v1/changes', { changes: [{ changeId: randomUUID(), collection: 'notes', id: 'after-restart', baseVersion: 0, content: { title: 't', body: 'b' } }] }, auth);
      await eventually(async () => (await st()).upToDate === true, 10_000, 'backup up to date after restart');
      const status = await st();
      assert.equal(status.configured, true);
      assert.ok(status.lastBackedUpAt, 'status tells the user when their data was last backed up');
      const metrics = await (await fetch(`${second.url}/metrics`)).text();
      assert.match(metrics, /keepsake_backup_lag_seconds\{target="file:\/\/[^"]+"\} 0/);
    } finally {
      second.child.kill('SIGTERM');
      await stopped(second.child);
    }

    const after = await repo.userIndex(index.userId);
    const chain = [...after.segments].sort((a, b) => a.n - b.n);
    chain.forEach((s, i) => assert.equal(s.n, i + 1, 'segment numbers without gaps'));
    for (let i = 1; i < chain.length; i++) assert.equal(chain[i].fromSeq, chain[i - 1].toSeq, `no gap or duplicate between ${chain[i - 1].name} and ${chain[i].name}`);
    const store = await openSqliteStore(join(data, 'keepsake.db'));
    try {
      await assertSameAsStore(store, index.userId, await replayUser(repo, after));
    } finally {
      await store.close();
    }
    const verify = await runCli(['backup', 'verify', '--full', '--data', data, '--backup', repoDir, '--json']);
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
    assert.equal(JSON.parse(verify.stdout)[0].ok, true);
    const status = await runCli(['backup', 'status', '--data', data, '--backup', repoDir, '--json']);
    assert.equal(status.code, 0, status.stderr);
    const s = JSON.parse(status.stdout)[0];
    assert.equal(s.usersBehind, 0);
    assert.equal(s.lastVerification.ok, true);
  });

  it('CLI: damage exits 1 naming object and user; a wrong key exits 2 with a clear message; a checkpoint is verified', async () => {
    const dir = tempDir();
    const data = join(dir, 'data');
    const repoDir = join(dir, 'backup');
    const env = { KEEPSAKE_BACKUP_KEY: 'correct horse battery staple' };
    assert.equal((await runCli(['user', 'add', 'eve', '--data', data, '--password-stdin'], { input: 'eve-password\n' })).code, 0);
    const cp = await runCli(['backup', 'checkpoint', '--label', 'before upgrade', '--data', data, '--backup', repoDir], { env });
    // A checkpoint needs an existing repository: create it through serve's path first.
    if (cp.code !== 0) {
      assert.match(cp.stderr, /holds no Keepsake backup repository/);
      const srv = await startServe(['--data', data, '--backup', repoDir], env);
      srv.child.kill('SIGTERM');
      await stopped(srv.child);
    }
    const cp2 = await runCli(['backup', 'checkpoint', '--label', 'before upgrade', '--data', data, '--backup', repoDir], { env });
    assert.equal(cp2.code, 0, cp2.stderr);
    assert.match(cp2.stdout, /written and verified/);

    const wrong = await runCli(['backup', 'verify', '--data', data, '--backup', repoDir], { env: { KEEPSAKE_BACKUP_KEY: 'not the key at all' } });
    assert.equal(wrong.code, 2);
    assert.match(wrong.stderr, /error \[backup_key_mismatch\]: wrong backup key/);

    const repo = await openRepository(await openFileTarget(repoDir), { key: env.KEEPSAKE_BACKUP_KEY, create: false });
    const [index] = (await repo.allUserIndexes()).values();
    const seg = index.segments[0];
    const path = join(repoDir, ...seg.name.split('/'));
    const bytes = readFileSync(path);
    bytes[60] ^= 0xff;
    writeFileSync(path, bytes);
    const bad = await runCli(['backup', 'verify', '--data', data, '--backup', repoDir], { env });
    assert.equal(bad.code, 1, bad.stdout + bad.stderr);
    assert.ok(bad.stdout.includes(seg.name), bad.stdout);
    assert.ok(bad.stdout.includes(index.userId), bad.stdout);
    const prune = await runCli(['backup', 'prune', '--keep-within', '30d', '--data', data, '--backup', repoDir], { env });
    assert.equal(prune.code, 2);
    assert.match(prune.stderr, /refusing to prune/);
  });
});
