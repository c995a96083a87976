// Two `keepsake serve` processes on one PostgreSQL: no duplicate versions, no lost update.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import { runCli, startServe } from '../helpers/cli.js';
import { basic, call } from '../helpers/test-server.js';

const PG = process.env.KEEPSAKE_TEST_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432/test';

describe('two servers on one PostgreSQL', () => {
  const schema = `t_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
  const cleanups: Array<() => Promise<unknown>> = [];
  after(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => {});
    const client = new pg.Client(PG);
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await client.end();
  });

  it('share one change log safely', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'keepsake-pg2-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const store = `${PG}?schema=${schema}`;
    const add = await runCli(['user', 'add', 'fay', '--store', store, '--data', dir, '--password-stdin'], { input: 'fay-password\n' });
    assert.equal(add.code, 0, add.stderr);
    const servers = [await startServe(['--store', store, '--data', dir]), await startServe(['--store', store, '--data', dir])];
    for (const s of servers) {
      cleanups.push(async () => {
        s.child.kill('SIGTERM');
        await new Promise((r) => s.child.once('exit', r));
      });
    }
    const tokens = await Promise.all(servers.map(async (s) => (await call(s.url, 'POST', '/api/v1/tokens', { device: 'd' }, basic('fay', 'fay-password'))).body.token));
    const push = (i: number, changes: unknown[]) =>
      call(servers[i % 2].url, 'POST', '/api/v1/changes', { changes }, { authorization: `Bearer ${tokens[i % 2]}` });
    const first = await push(0, [{ changeId: randomUUID(), collection: 'notes', id: 'shared', baseVersion: 0, content: { title: 's', body: 'v0' } }]);
    const base = first.body.results[0].item.version;
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        push(i, [
          { changeId: randomUUID(), collection: 'notes', id: `own-${i}`, baseVersion: 0, content: { title: 'o', body: `${i}` } },
          { changeId: randomUUID(), collection: 'notes', id: 'shared', baseVersion: base, content: { title: 's', body: `edit ${i}` } },
        ]),
      ),
    );
    const all = results.flatMap((r) => r.body.results);
    const versions = all.map((r: any) => (r.status === 'conflict' ? r.revision : r.item.version));
    assert.equal(new Set(versions).size, versions.length, 'no version handed out twice');
    const shared = all.filter((r: any) => r.item?.id === 'shared');
    assert.equal(shared.filter((r: any) => r.status === 'applied').length, 1, 'exactly one concurrent edit wins');
    assert.equal(shared.filter((r: any) => r.status === 'conflict').length, 39, 'every other edit is kept as a conflict revision');
    const revs = await call(servers[1].url, 'GET', '/api/v1/items/notes/shared/revisions', undefined, { authorization: `Bearer ${tokens[1]}` });
    assert.equal(revs.body.revisions.length, 40);
    const cols = await call(servers[0].url, 'GET', '/api/v1/collections', undefined, { authorization: `Bearer ${tokens[0]}` });
    assert.equal(cols.body.collections.find((c: any) => c.id === 'notes').count, 41);
  });
});
