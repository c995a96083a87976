// kill -9 of the server with writes in flight: every acknowledged write survives, scrub is clean.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { vcard } from '../helpers/fixtures.js';
import { runCli, startServe } from '../helpers/cli.js';
import { basic, call } from '../helpers/test-server.js';

describe('kill -9 with writes in flight', () => {
  const dirs: string[] = [];
  after(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('loses no acknowledged write and leaves a clean store', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'keepsake-kill9-'));
    dirs.push(dir);
    const add = await runCli(['user', 'add', 'dora', '--data', dir, '--password-stdin'], { input: 'dora-password\n' });
    assert.equal(add.code, 0, add.stderr);

    const first = await startServe(['--data', dir]);
    const tok = await call(first.url, 'POST', '/api/v1/tokens', { device: 'phone' }, basic('dora', 'dora-password'));
    const auth = { authorization: `Bearer ${tok.body.token}` };
    const acknowledged = new Map<string, { version: number; hash: string }>();
    let stop = false;
    let failures = 0;
    const writer = async (w: number) => {
      for (let i = 0; !stop; i++) {
        const id = `w${w}-${i}`;
        const kind = i % 2 ? 'contacts' : 'notes';
        const content = kind === 'contacts' ? vcard(id, `Person ${id}`) : { title: id, body: `body of ${id}` };
        try {
          const r = await call(first.url, 'POST', '/api/v1/changes', { changes: [{ changeId: randomUUID(), collection: kind, id, baseVersion: 0, content }] }, auth);
          const res = r.body.results[0];
          if (res.status === 'applied') acknowledged.set(`${kind}/${id}`, { version: res.item.version, hash: res.item.hash });
        } catch {
          failures++;
          return; // the server died under us: this write was never acknowledged
        }
      }
    };
    const writers = Array.from({ length: 16 }, (_, w) => writer(w));
    await new Promise((r) => setTimeout(r, 1500));
    first.child.kill('SIGKILL');
    stop = true;
    await Promise.all(writers);
    assert.ok(acknowledged.size > 50, `only ${acknowledged.size} writes were acknowledged before the kill`);

    const second = await startServe(['--data', dir]);
    try {
      let cursor = '';
      const found = new Map<string, { version: number; hash: string }>();
      for (;;) {
        const p = await call(second.url, 'GET', `/api/v1/changes?since=${cursor}&limit=1000`, undefined, auth);
        assert.equal(p.status, 200, JSON.stringify(p.body));
        for (const c of p.body.changes) found.set(`${c.collection}/${c.id}`, { version: c.version, hash: c.hash });
        cursor = p.body.cursor;
        if (!p.body.more) break;
      }
      const lost = [...acknowledged].filter(([k, v]) => found.get(k)?.hash !== v.hash || found.get(k)?.version !== v.version);
      assert.deepEqual(lost, [], `${lost.length} acknowledged writes were lost`);
    } finally {
      second.child.kill('SIGTERM');
      await new Promise((r) => second.child.once('exit', r));
    }
    const scrub = await runCli(['scrub', '--data', dir]);
    assert.equal(scrub.code, 0, scrub.stdout + scrub.stderr);
  });
});
