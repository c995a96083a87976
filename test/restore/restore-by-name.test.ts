// After the database is lost, an operator restores one user by name from the backup alone; an unknown name is an error.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { vcard } from '../helpers/fixtures.js';
import { runCli, startServe, stopped } from '../helpers/cli.js';

describe('keepsake restore --user NAME into a lost store', () => {
  let dir: string;
  const data = () => join(dir, 'data');
  const repo = () => join(dir, 'repo');
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'keepsake-restore-name-'));
    for (const name of ['ada', 'bob']) assert.equal((await runCli(['user', 'add', name, '--password-stdin', '--data', data()], { input: `${name}-password-1\n` })).code, 0);
    const vcf = join(dir, 'ada.vcf');
    await writeFile(vcf, vcard('c1', 'Charles Babbage') + vcard('c2', 'Mary Somerville') + vcard('c3', 'Augustus De Morgan'));
    assert.equal((await runCli(['import', 'ada', vcf, '--data', data()])).code, 0);
    // The server creates the repository and ships; a checkpoint while it runs makes sure all of it is there.
    const server = await startServe(['--data', data(), '--backup', repo()]);
    try {
      const checkpoint = await runCli(['backup', 'checkpoint', '--label', 'before', '--backup', repo(), '--data', data()]);
      assert.equal(checkpoint.code, 0, checkpoint.stderr);
    } finally {
      server.child.kill('SIGTERM');
      await stopped(server.child);
    }
    await rm(data(), { recursive: true }); // the disaster: the store is gone, the backup is all there is
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('lists the points in time of a user named in the backup, with no store at all', async () => {
    const list = await runCli(['backup', 'list', '--backup', repo(), '--user', 'ada', '--json'], { env: { KEEPSAKE_DATA: join(dir, 'no-store') } });
    assert.equal(list.code, 0, list.stderr);
    const [only] = JSON.parse(list.stdout);
    assert.ok(only.points.length > 0, 'ada has restore points');
    const unknown = await runCli(['backup', 'list', '--backup', repo(), '--user', 'nobody'], { env: { KEEPSAKE_DATA: join(dir, 'no-store') } });
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /user_not_found.*nobody/);
  });

  it('restores exactly that user by name into an empty data directory', async () => {
    const target = join(dir, 'restored');
    const restore = await runCli(['restore', '--from', repo(), '--data', target, '--user', 'ada', '--json']);
    assert.equal(restore.code, 0, restore.stderr);
    const report = JSON.parse(restore.stdout);
    assert.equal(report.users, 1);
    assert.equal(report.items.inserted, 3, 'all three contacts are back');
    const users = JSON.parse((await runCli(['user', 'list', '--json', '--data', target])).stdout);
    assert.deepEqual(users.map((u: { name: string }) => u.name), ['ada'], 'bob was not asked for and is not restored');
  });

  it('refuses a name the backup does not know, and changes nothing', async () => {
    const target = join(dir, 'restored-2');
    assert.equal((await runCli(['restore', '--from', repo(), '--data', target, '--user', 'ada'])).code, 0);
    const before = (await runCli(['user', 'list', '--json', '--data', target])).stdout;
    const r = await runCli(['restore', '--from', repo(), '--data', target, '--user', 'nobody']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /error \[user_not_found\]: .*"nobody"/);
    assert.equal((await runCli(['user', 'list', '--json', '--data', target])).stdout, before);
  });

  it('a backup written before the name index learns the names at the next checkpoint', async () => {
    // Pretend the names were never written (backups from before 2026-12-07).
    await rm(join(repo(), 'names'), { recursive: true });
    const target = join(dir, 'restored-3');
    const before = await runCli(['restore', '--from', repo(), '--data', target, '--user', 'bob']);
    assert.equal(before.code, 2);
    assert.match(before.stderr, /user_not_found/);
    // The operator still has the server's store somewhere (here: the restore of ada plus bob again).
    const live = join(dir, 'live');
    assert.equal((await runCli(['restore', '--from', repo(), '--data', live, '--all'])).code, 0);
    assert.equal((await runCli(['backup', 'checkpoint', '--label', 'after', '--backup', repo(), '--data', live])).code, 0);
    const after = await runCli(['restore', '--from', repo(), '--data', target, '--user', 'bob', '--json']);
    assert.equal(after.code, 0, after.stderr);
    assert.equal(JSON.parse(after.stdout).users, 1);
  });
});
