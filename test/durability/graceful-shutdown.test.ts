// SIGTERM with writes in flight: every request already received is answered, and what was
// answered `applied` is in the store after a restart.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runCli, startServe } from '../helpers/cli.js';
import { basic, call } from '../helpers/test-server.js';

describe('graceful shutdown', () => {
  it('finishes in-flight writes before exiting', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'keepsake-term-'));
    try {
      await runCli(['user', 'add', 'eve', '--data', dir, '--password-stdin'], { input: 'eve-password\n' });
      const s = await startServe(['--data', dir]);
      const tok = (await call(s.url, 'POST', '/api/v1/tokens', { device: 'd' }, basic('eve', 'eve-password'))).body.token;
      const auth = { authorization: `Bearer ${tok}` };
      const inflight = Array.from({ length: 40 }, (_, i) =>
        call(s.url, 'POST', '/api/v1/changes', { changes: Array.from({ length: 50 }, (_, j) => ({ changeId: randomUUID(), collection: 'notes', id: `n${i}-${j}`, baseVersion: 0, content: { title: 't', body: 'x'.repeat(500) } })) }, auth).then(
          (r) => r,
          () => null,
        ),
      );
      // Stop as soon as the first of them is answered: the others are then in flight (on a slow,
      // loaded machine a fixed delay could fire before any request reached the server).
      await Promise.race(inflight);
      const exited = new Promise<number | null>((r) => s.child.once('exit', (code) => r(code)));
      s.child.kill('SIGTERM');
      const results = await Promise.all(inflight);
      assert.equal(await exited, 0, 'exits cleanly');
      const applied = results.filter((r) => r?.status === 200).flatMap((r) => r!.body.results.map((x: any) => x.item.id as string));
      assert.ok(applied.length > 0, 'some writes were answered');
      // Whatever was not answered got a clear refusal or a closed connection, never a false "applied".
      const again = await startServe(['--data', dir]);
      try {
        const tok2 = (await call(again.url, 'POST', '/api/v1/tokens', { device: 'd' }, basic('eve', 'eve-password'))).body.token;
        const pulled = await call(again.url, 'GET', '/api/v1/changes?limit=5000', undefined, { authorization: `Bearer ${tok2}` });
        const have = new Set(pulled.body.changes.map((c: any) => c.id));
        assert.deepEqual(applied.filter((id) => !have.has(id)), [], 'every answered write is there');
      } finally {
        again.child.kill('SIGTERM');
        await new Promise((r) => again.child.once('exit', r));
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
