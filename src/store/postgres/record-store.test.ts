// Runs the record-store contract against PostgreSQL, plus group-commit and two-process tests; each store gets a fresh schema.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import { collectionDigest } from '../../core/digest.js';
import { del, describeRecordStore, newUser, note } from '../contract/record-store.contract.js';
import { type PostgresRecordStore, openPostgresStore } from './record-store.js';

const URL = process.env.KEEPSAKE_TEST_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432/test';
const NOW = '2026-01-01T00:00:00.000Z';
const COLLECTIONS = [{ id: 'notes', kind: 'notes' as const, name: 'Notes' }];

const schemas = new Set<string>();
function freshSchema(): string {
  const s = `ks_test_${randomBytes(6).toString('hex')}`;
  schemas.add(s);
  return s;
}
const stores: PostgresRecordStore[] = [];
async function open(schema = freshSchema()): Promise<PostgresRecordStore> {
  const s = await openPostgresStore(URL, { schema });
  stores.push(s);
  return s;
}

after(async () => {
  for (const s of stores) await s.close().catch(() => {});
  const client = new pg.Client({ connectionString: URL });
  await client.connect();
  for (const s of schemas) await client.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
  await client.end();
});

const sibling = (store: unknown) => {
  const s = store as PostgresRecordStore;
  return openPostgresStore(s.url, { schema: s.schema! });
};

describeRecordStore('postgres', {
  open: () => openPostgresStore(URL, { schema: freshSchema() }),
  reopen: async (store) => {
    await store.close();
    return sibling(store);
  },
  openSibling: sibling,
});

describe('PostgresRecordStore', () => {
  it('commits 200 concurrent calls in far fewer transactions, each user numbered 1..n', async () => {
    const sut = await open();
    const users = await Promise.all(Array.from({ length: 4 }, () => sut.createUser(newUser(), COLLECTIONS)));
    const before = sut.durabilityStats().commits;
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => sut.applyChanges(users[i % 4].id, [note(`n${i}`, `body ${i}`)], NOW)),
    );
    const commits = sut.durabilityStats().commits - before;
    assert.ok(commits < 50, `200 calls took ${commits} commits`);
    for (const [u, user] of users.entries()) {
      const versions = results.filter((_, i) => i % 4 === u).map(([r]) => (r.status === 'applied' ? r.item.version : -1));
      assert.deepEqual([...versions].sort((a, b) => a - b), Array.from({ length: 50 }, (_, i) => i + 1));
      assert.equal(await sut.lastSeq(user.id), 50);
    }
  });

  it('rejects only the bad call of a group; the others commit', async () => {
    const sut = await open();
    const user = await sut.createUser(newUser(), COLLECTIONS);
    const bad = { ...note('x', 'x'), collection: 'nope' };
    const calls = [
      sut.applyChanges(user.id, [note('a', 'a')], NOW),
      sut.applyChanges(user.id, [note('b', 'b'), bad], NOW),
      sut.applyChanges(randomUUID(), [note('c', 'c')], NOW),
      sut.applyChanges(user.id, [note('d', 'd')], NOW),
    ];
    const settled = await Promise.allSettled(calls);
    assert.deepEqual(settled.map((s) => s.status), ['fulfilled', 'rejected', 'rejected', 'fulfilled']);
    assert.equal((settled[1] as PromiseRejectedResult).reason.code, 'collection_not_found');
    assert.equal((settled[2] as PromiseRejectedResult).reason.code, 'user_not_found');
    assert.equal(await sut.getItem(user.id, 'notes', 'b'), null, 'nothing of the rejected call was written');
    assert.deepEqual((await sut.listItems(user.id, 'notes', { limit: 10 })).map((i) => i.id), ['a', 'd']);
    assert.equal(await sut.lastSeq(user.id), 2);
  });

  it('lets two processes open a new schema at once: one migration, one identity', async () => {
    const schema = freshSchema();
    const [a, b] = await Promise.all([open(schema), open(schema)]);
    assert.deepEqual(await a.identity(), await b.identity());
    const user = await a.createUser(newUser(), COLLECTIONS);
    await b.applyChanges(user.id, [note('n1', 'v1')], NOW);
    const [r] = await a.applyChanges(user.id, [del('n1', 1)], NOW);
    assert.equal(r.status, 'applied');
  });

  it('closes only after queued writes have committed', async () => {
    const schema = freshSchema();
    const sut = await openPostgresStore(URL, { schema });
    const user = await sut.createUser(newUser(), COLLECTIONS);
    const writes = Array.from({ length: 20 }, (_, i) => sut.applyChanges(user.id, [note(`n${i}`, 'x')], NOW));
    await sut.close();
    assert.equal((await Promise.all(writes)).length, 20);
    await assert.rejects(sut.applyChanges(user.id, [note('late', 'x')], NOW), { code: 'unavailable' });
    const again = await open(schema);
    assert.equal(await again.lastSeq(user.id), 20);
  });

  it('runs a transaction again when PostgreSQL aborts it as a deadlock', async () => {
    const schema = freshSchema();
    const sut = await openPostgresStore(URL, { schema, groupCommit: { maxInFlight: 1 } });
    stores.push(sut);
    const [a, b, c] = (await Promise.all([0, 1, 2].map(() => sut.createUser(newUser(), COLLECTIONS)))).sort((x, y) => (x.id < y.id ? -1 : 1));
    const other = new pg.Client({ connectionString: URL });
    await other.connect();
    try {
      await other.query(`SET search_path TO "${schema}"`);
      await other.query('BEGIN');
      await other.query('SELECT 1 FROM users WHERE id = $1 FOR UPDATE', [b.id]);
      // With one group in flight, c's call goes alone and a's and b's share the next group,
      // which locks a and then waits for b.
      const first = sut.applyChanges(c.id, [note('n', 'c')], NOW);
      const grouped = Promise.all([sut.applyChanges(a.id, [note('n', 'a')], NOW), sut.applyChanges(b.id, [note('n', 'b')], NOW)]);
      await first;
      await new Promise((r) => setTimeout(r, 300));
      // Now wait for a: a cycle. The store's transaction has waited longer, so its deadlock check fires first.
      await other.query('SELECT 1 FROM users WHERE id = $1 FOR UPDATE', [a.id]);
      await other.query('COMMIT');
      const outcomes = (await grouped).flat();
      assert.deepEqual(outcomes.map((o) => o.status), ['applied', 'applied']);
      assert.ok(sut.durabilityStats().retries >= 1);
    } finally {
      await other.end();
    }
  });

  it('two server processes hammering one user never share a sequence number and keep count and digest right', async () => {
    const schema = freshSchema();
    const sut = await open(schema);
    const user = await sut.createUser(newUser(), COLLECTIONS);
    await sut.applyChanges(user.id, ['hot0', 'hot1', 'hot2'].map((id) => note(id, 'start')), NOW);
    const fixture = fileURLToPath(new globalThis.URL('./hammer.fixture.js', import.meta.url));
    const run = (label: string) => promisify(execFile)(process.execPath, [fixture, URL, schema, user.id, label, '300']);
    const outputs = await Promise.all([run('p1'), run('p2')]);
    const reports = outputs.map((o) => JSON.parse(o.stdout) as { seqs: number[]; commits: number; calls: number });
    const seqs = reports.flatMap((r) => r.seqs);
    assert.equal(new Set(seqs).size, seqs.length, 'no sequence number was handed out twice');
    assert.ok(seqs.length > 600, `${seqs.length} sequence numbers`);
    assert.equal(await sut.lastSeq(user.id), Math.max(...seqs), 'the last number handed out is the user\'s last seq');
    const changes = await sut.listChanges(user.id, 0, 100_000);
    assert.equal(new Set(changes.map((c) => c.version)).size, changes.length);
    const live = await sut.listItems(user.id, 'notes', { limit: 100_000 });
    const col = await sut.getCollection(user.id, 'notes');
    assert.equal(col?.count, live.length);
    assert.equal(col?.digest, collectionDigest(live));
    for (const r of reports) assert.ok(r.commits < r.calls, `a process grouped its calls (${r.commits} commits for ${r.calls} calls)`);
  });
});
