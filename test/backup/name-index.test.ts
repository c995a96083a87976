// The backup's name index: a user is found by name from the backup alone, and names stay hidden in encrypted backups.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { cpSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { BackupShipper } from '../../src/backup/shipper.js';
import { nameEntryObject, recordUserName, resolveBackupUser, usersNamed } from '../../src/backup/name-index.js';
import { verifyRepository } from '../../src/backup/verify.js';
import { openRepository } from '../../src/backup/repository.js';
import { openFileTarget } from '../../src/backup/targets/file/file-target.js';
import { MemoryBlobStore } from '../../src/store/memory/blob-store.js';
import { MemoryRecordStore } from '../../src/store/memory/record-store.js';
import { cleanTempDirs, tempDir, userWithHistory } from './backup-helpers.js';

after(cleanTempDirs);

/** Every object name under `dir`, relative to it. */
function objectNames(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(dir, prefix), { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...objectNames(dir, rel));
    else out.push(rel);
  }
  return out;
}

async function shipOnce(store: MemoryRecordStore, dir: string, key: string | null) {
  const repo = await openRepository(await openFileTarget(dir), { key });
  const shipper = new BackupShipper(store, new MemoryBlobStore(), [repo]);
  await shipper.passOnce(false);
  await shipper.stop();
  return repo;
}

describe('backup name index', () => {
  it('the shipper records each user under their name, and the backup alone resolves names and ids', async () => {
    const store = new MemoryRecordStore();
    const ada = await userWithHistory(store, 'ada');
    const bob = await userWithHistory(store, 'bob');
    const repo = await shipOnce(store, join(tempDir(), 'repo'), null);
    assert.deepEqual((await usersNamed(repo, 'ada')).map((e) => e.userId), [ada.id]);
    assert.equal(await resolveBackupUser(repo, 'ada'), ada.id);
    assert.equal(await resolveBackupUser(repo, 'bob'), bob.id);
    assert.equal(await resolveBackupUser(repo, bob.id), bob.id, 'an id the backup holds resolves to itself');
    await assert.rejects(resolveBackupUser(repo, 'carol'), (e: any) => e.code === 'user_not_found' && /carol/.test(e.message));
    // Names are case-sensitive, as accounts are: "Ada" is nobody here.
    await assert.rejects(resolveBackupUser(repo, 'Ada'), (e: any) => e.code === 'user_not_found');
    const report = await verifyRepository(repo, { mode: 'full', sample: 0, record: false });
    assert.equal(report.ok, true, JSON.stringify(report.problems));
  });

  it('a name reused by a later account is ambiguous: the error lists both ids', async () => {
    const store = new MemoryRecordStore();
    const ada = await userWithHistory(store, 'ada');
    const repo = await shipOnce(store, join(tempDir(), 'repo'), null);
    await recordUserName(repo, { id: 'a-later-ada', name: 'ada' }, '2027-01-01T00:00:00.000Z');
    await assert.rejects(
      resolveBackupUser(repo, 'ada'),
      (e: any) => e.code === 'invalid_request' && e.message.includes(ada.id) && e.message.includes('a-later-ada'),
    );
  });

  it('in an encrypted backup no object name shows an account name or an unkeyed hash of it', async () => {
    const store = new MemoryRecordStore();
    const ada = await userWithHistory(store, 'ada-lovelace');
    const dir = join(tempDir(), 'repo');
    const repo = await shipOnce(store, dir, 'the-backup-key-0123456789');
    const all = objectNames(dir);
    const entries = all.filter((n) => n.startsWith('names/'));
    assert.equal(entries.length, 1);
    assert.ok(all.every((n) => !n.includes('ada-lovelace')));
    const unkeyed = createHmac('sha256', Buffer.from(repo.config.repositoryId)).update('keepsake account name\0ada-lovelace').digest('hex');
    assert.ok(!entries[0].includes(unkeyed), 'the folder is keyed with the encryption key, not the public repository id');
    assert.equal(await resolveBackupUser(repo, 'ada-lovelace'), ada.id);
    // Without the key the repository does not open at all, so names cannot be tested against it.
    await assert.rejects(openRepository(await openFileTarget(dir), { key: null }), (e: any) => e.code === 'backup_key_required');
  });

  it('an entry copied under another name is named as damage, not taken as an answer', async () => {
    const store = new MemoryRecordStore();
    const ada = await userWithHistory(store, 'ada');
    const dir = join(tempDir(), 'repo');
    const repo = await shipOnce(store, dir, null);
    // Someone copies ada's entry into the folder of the name "mallory".
    const from = join(dir, ...nameEntryObject(repo, 'ada', ada.id).split('/'));
    const to = join(dir, ...nameEntryObject(repo, 'mallory', ada.id).split('/'));
    mkdirSync(join(to, '..'), { recursive: true });
    cpSync(from, to);
    await assert.rejects(resolveBackupUser(repo, 'mallory'), (e: any) => e.code === 'backup_object_corrupt' && e.object === nameEntryObject(repo, 'mallory', ada.id));
  });
});
