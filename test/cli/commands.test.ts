// The `keepsake` command as a user runs it: accounts, import, export, scrub, bad configuration.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { vcard, vevent, vtodo } from '../helpers/fixtures.js';
import { runCli, startServe } from '../helpers/cli.js';
import { basic, call } from '../helpers/test-server.js';

describe('keepsake CLI', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'keepsake-cli-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const ks = (args: string[], input?: string) => runCli([...args, '--data', join(dir, 'data')], { input });

  it('manages accounts while the server runs', async () => {
    assert.equal((await ks(['user', 'add', 'ann', '--password-stdin'], 'ann-password-1\n')).code, 0);
    const server = await startServe(['--data', join(dir, 'data')]);
    try {
      assert.equal((await call(server.url, 'POST', '/api/v1/tokens', { device: 'd' }, basic('ann', 'ann-password-1'))).status, 201);
      const dup = await ks(['user', 'add', 'ann', '--password-stdin'], 'other-password\n');
      assert.equal(dup.code, 2);
      assert.match(dup.stderr, /user_exists/);
      assert.equal((await ks(['user', 'passwd', 'ann', '--password-stdin'], 'ann-password-2\n')).code, 0);
      assert.equal((await call(server.url, 'POST', '/api/v1/tokens', { device: 'd' }, basic('ann', 'ann-password-2'))).status, 201);
      const list = await ks(['user', 'list', '--json']);
      assert.deepEqual(JSON.parse(list.stdout).map((u: any) => u.name), ['ann']);
      assert.equal((await ks(['user', 'delete', 'ann'])).code, 0);
      assert.equal((await call(server.url, 'POST', '/api/v1/tokens', { device: 'd' }, basic('ann', 'ann-password-2'))).status, 401);
      assert.equal((await ks(['user', 'undelete', 'ann'])).code, 0);
      assert.equal((await call(server.url, 'POST', '/api/v1/tokens', { device: 'd' }, basic('ann', 'ann-password-2'))).status, 201);
      const short = await ks(['user', 'add', 'bob', '--password-stdin'], 'short\n');
      assert.equal(short.code, 2);
      assert.match(short.stderr, /password/);
    } finally {
      server.child.kill('SIGTERM');
      await new Promise((r) => server.child.once('exit', r));
    }
  });

  it('purges an account deleted longer ago than the retention window, and only that one', async () => {
    for (const name of ['eve', 'fay', 'gus']) assert.equal((await ks(['user', 'add', name, '--password-stdin'], `${name}-password-1\n`)).code, 0);
    assert.equal((await ks(['user', 'delete', 'eve'])).code, 0);
    assert.equal((await ks(['user', 'delete', 'fay'])).code, 0);
    // eve was deleted 40 days ago (past the 30-day default); fay just now.
    const db = new Database(join(dir, 'data', 'keepsake.db'));
    db.prepare("UPDATE users SET deleted_at = ? WHERE name = 'eve'").run(new Date(Date.now() - 40 * 86_400_000).toISOString());
    const eveId = (db.prepare("SELECT id FROM users WHERE name = 'eve'").get() as { id: string }).id;
    db.close();
    const server = await startServe(['--data', join(dir, 'data')]); // prunes at start-up
    try {
      const eveLeft = () => {
        const look = new Database(join(dir, 'data', 'keepsake.db'), { readonly: true });
        try {
          return look.prepare('SELECT 1 FROM users WHERE id = ?').get(eveId) !== undefined;
        } finally {
          look.close();
        }
      };
      for (let i = 0; i < 200 && eveLeft(); i++) await new Promise((r) => setTimeout(r, 50));
    } finally {
      server.child.kill('SIGTERM');
      await new Promise((r) => server.child.once('exit', r));
    }
    const names = JSON.parse((await ks(['user', 'list', '--json'])).stdout).map((u: any) => u.name);
    assert.ok(!names.includes('eve'), 'eve is purged');
    assert.ok(names.includes('fay') && names.includes('gus'), 'fay (deleted within the window) and gus stay');
    const check = new Database(join(dir, 'data', 'keepsake.db'), { readonly: true });
    assert.equal((check.prepare('SELECT count(*) AS n FROM collections WHERE user_id = ?').get(eveId) as { n: number }).n, 0);
    check.close();
    assert.equal((await ks(['user', 'add', 'eve', '--password-stdin'], 'eve-password-2\n')).code, 0, 'the name is free again');
  });

  it('imports .vcf and .ics idempotently, exports, and round-trips into a fresh user', async () => {
    await ks(['user', 'add', 'cat', '--password-stdin'], 'cat-password-1\n');
    await ks(['user', 'add', 'dan', '--password-stdin'], 'dan-password-1\n');
    const vcf = join(dir, 'people.vcf');
    const ics = join(dir, 'cal.ics');
    await writeFile(vcf, vcard('p1', 'One Person') + vcard('p2', 'Two Person', '3.0'));
    const cal = vevent('e1', 'Weekly', { recurring: true }).replace('END:VCALENDAR\r\n', '') + vtodo('t1').split('\r\n').slice(3).join('\r\n');
    await writeFile(ics, cal);
    const first = await ks(['import', 'cat', vcf, ics, '--json']);
    assert.equal(first.code, 0, first.stderr + first.stdout);
    assert.equal(JSON.parse(first.stdout).created, 4);
    const again = await ks(['import', 'cat', vcf, ics, '--json']);
    assert.equal(JSON.parse(again.stdout).created, 0);
    assert.equal(JSON.parse(again.stdout).unchanged, 4);

    const zip = join(dir, 'cat.zip');
    const ex = await ks(['export', 'cat', '--out', zip]);
    assert.equal(ex.code, 0, ex.stderr);
    const im = await ks(['import', 'dan', zip, '--json']);
    assert.equal(im.code, 0, im.stderr + im.stdout);
    const db = new Database(join(dir, 'data', 'keepsake.db'), { readonly: true });
    try {
      const q = (name: string) =>
        db
          .prepare(`SELECT i.collection, i.id, i.hash FROM items i JOIN users u ON u.id = i.user_id WHERE u.name = ? AND i.deleted = 0 ORDER BY i.collection, i.id`)
          .all(name);
      assert.equal(q('cat').length, 4);
      assert.deepEqual(q('dan'), q('cat'), 'the same items with the same hashes');
    } finally {
      db.close();
    }
    const bad = await ks(['import', 'cat', join(dir, 'missing.vcf')]);
    assert.notEqual(bad.code, 0);
  });

  it('scrub is clean on a healthy store and names a damaged item', async () => {
    const clean = await ks(['scrub']);
    assert.equal(clean.code, 0, clean.stdout + clean.stderr);
    assert.match(clean.stdout, /no damage found/);
    const db = new Database(join(dir, 'data', 'keepsake.db'));
    db.prepare(`UPDATE items SET content = replace(content, 'One Person', 'One Persoh') WHERE id = 'p1' AND user_id = (SELECT id FROM users WHERE name = 'cat')`).run();
    db.close();
    const damaged = await ks(['scrub', '--json']);
    assert.equal(damaged.code, 1);
    const report = JSON.parse(damaged.stdout);
    assert.ok(report.problems.some((p: any) => p.user === 'cat' && p.item === 'p1'), damaged.stdout);
  });

  it('refuses bad configuration and names the key', async () => {
    const r = await runCli(['serve', '--port', 'seventy', '--data', join(dir, 'data')]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /invalid --port "seventy"/);
    const env = await runCli(['serve', '--data', join(dir, 'data')], { env: { KEEPSAKE_MAX_PHOTO_SIZE: 'huge' } });
    assert.equal(env.code, 2);
    assert.match(env.stderr, /KEEPSAKE_MAX_PHOTO_SIZE/);
    const store = await runCli(['user', 'list', '--store', 'mysql://x', '--data', join(dir, 'data')]);
    assert.equal(store.code, 2);
    assert.match(store.stderr, /--store/);
  });
});
