// A full restore into an empty store carries on the lost server: same server id, a higher epoch,
// and devices with cursors from before reconcile without losing anything.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { BackupShipper } from '../../src/backup/shipper.js';
import type { KeepsakeClient } from '../../src/client/index.js';
import { DEFAULT_PRIORITY } from '../../src/core/restore/restore-plan.js';
import { prepareOnlineRestore } from '../../src/restore/online-restore.js';
import { cleanTempDirs, fileRepo, tempDir } from '../backup/backup-helpers.js';
import { device, RestartableServer } from '../client/server-fixture.js';
import { runCli } from '../helpers/cli.js';
import { png, vcard } from '../helpers/fixtures.js';

const servers: RestartableServer[] = [];
after(async () => {
  for (const s of servers) await s.close();
  cleanTempDirs();
});

function itemsOf(d: KeepsakeClient): Map<string, string> {
  return new Map(d.list().map((i) => [`${i.collection}/${i.id}`, i.hash]));
}

/** A server whose phone synced contacts, a note and a photo; shipped to a backup; then one more contact the backup lacks. */
async function lostServer() {
  const server = new RestartableServer();
  servers.push(server);
  await server.start();
  const token = await server.token('ada');
  const phone = await device(server, token);
  for (let i = 0; i < 5; i++) await phone.put('contacts', `c${i}`, vcard(`c${i}`, `Friend ${i}`));
  await phone.put('notes', 'plan', { title: 'Plan', body: 'before the disaster' });
  await phone.putPhoto('photos', 'beach', png('beach', 50_000), { name: 'beach.png', type: 'image/png', takenAt: '2026-08-01T12:00:00Z' });
  assert.equal((await phone.sync()).ok, true);
  const repoDir = join(tempDir(), 'repo');
  await new BackupShipper(server.keepsake.store, server.keepsake.blobs, [await fileRepo(repoDir)]).passOnce(false);
  // Acknowledged by the server, never shipped: only the phone can bring it back.
  await phone.put('contacts', 'late', vcard('late', 'Met after the last backup'));
  assert.equal((await phone.sync()).ok, true);
  const identity = await server.keepsake.store.identity();
  return { server, phone, repoDir, identity, before: itemsOf(phone) };
}

describe('restored server identity', () => {
  it('keepsake restore --all into an empty data directory keeps the server id, bumps the epoch, and the phone reconciles', async () => {
    const { server, phone, repoDir, identity, before } = await lostServer();
    await server.wipe();
    assert.notEqual((await server.keepsake.store.identity()).id, identity.id, 'a fresh store has an id of its own');
    await server.stop();
    const r = await runCli(['restore', '--from', repoDir, '--data', server.dir, '--all', '--json']);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.equal(JSON.parse(r.stdout).server, identity.id);
    await server.start();

    const restored = await server.keepsake.store.identity();
    assert.equal(restored.id, identity.id, 'the restored server is the same server');
    assert.ok(restored.epoch > identity.epoch, `epoch ${restored.epoch} > ${identity.epoch}`);

    // The phone still holds its old cursor and token (tokens come back with the account).
    const sync = await phone.sync();
    assert.equal(sync.ok, true, sync.error?.message);
    // A cursor from another epoch is refused (410), or the new epoch is seen: either way it reconciles.
    assert.ok(sync.healed && ['new_epoch', 'cursor_expired'].includes(sync.healed.reason), JSON.stringify(sync.healed));
    assert.deepEqual(phone.server, { id: identity.id, epoch: restored.epoch });
    assert.deepEqual(itemsOf(phone), before, 'nothing lost or changed on the phone');
    const token = await server.token('ada');
    const pulled = await server.call(token, 'GET', '/api/v1/changes?limit=5000');
    const onServer = new Map(pulled.body.changes.filter((w: any) => !w.deleted).map((w: any) => [`${w.collection}/${w.id}`, w.hash]));
    assert.deepEqual(onServer, before, 'the server has everything again, the contact the backup lacked included');
  });

  it('an online restore into an empty store takes the backup server id before it serves', async () => {
    const { server, repoDir, identity } = await lostServer();
    await server.wipe();
    const online = await prepareOnlineRestore(
      server.keepsake,
      await fileRepo(repoDir),
      { userIds: [], categories: [...DEFAULT_PRIORITY], priority: [...DEFAULT_PRIORITY] },
      { info() {}, warn() {}, error() {} },
    );
    const during = await server.keepsake.store.identity();
    assert.equal(during.id, identity.id);
    assert.ok(during.epoch > identity.epoch);
    const report = await online.start();
    assert.deepEqual(report.quarantined, []);
    assert.deepEqual(await server.keepsake.store.identity(), during, 'the identity does not change again when the restore ends');
  });
});
