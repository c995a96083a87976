// One contract suite that every BackupTarget adapter must pass (file now; S3 and SFTP later).
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { BackupTarget } from '../../core/ports/backup-target.js';

export interface BackupTargetFactory {
  /** A new, empty target. */
  open(): Promise<BackupTarget>;
}

const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array | null) => (b === null ? null : new TextDecoder().decode(b));

async function names(t: BackupTarget, prefix: string): Promise<string[]> {
  const out: string[] = [];
  for await (const o of t.list(prefix)) out.push(o.name);
  return out;
}

/** Registers the contract tests for one adapter. */
export function describeBackupTarget(name: string, factory: BackupTargetFactory): void {
  describe(`BackupTarget contract: ${name}`, () => {
    const opened: BackupTarget[] = [];
    const open = async () => {
      const t = await factory.open();
      opened.push(t);
      return t;
    };
    after(async () => {
      for (const t of opened) await t.close().catch(() => {});
    });

    it('stores an object once and never overwrites it', async () => {
      const sut = await open();
      assert.equal(await sut.putIfAbsent('a/b/c', bytes('first')), true);
      assert.equal(await sut.putIfAbsent('a/b/c', bytes('second')), false);
      assert.equal(text(await sut.get('a/b/c')), 'first');
    });

    it('answers null for a missing object, for get and rangeGet', async () => {
      const sut = await open();
      assert.equal(await sut.get('no/such'), null);
      assert.equal(await sut.rangeGet('no/such', 0, 10), null);
    });

    it('reads a byte range, shorter at the end of the object', async () => {
      const sut = await open();
      await sut.putIfAbsent('r', bytes('0123456789'));
      assert.equal(text(await sut.rangeGet('r', 2, 3)), '234');
      assert.equal(text(await sut.rangeGet('r', 8, 10)), '89');
      assert.equal(text(await sut.rangeGet('r', 20, 5)), '');
    });

    it('lists by prefix in byte order with sizes', async () => {
      const sut = await open();
      for (const n of ['u/x/2', 'u/x/1', 'u/y', 'u-z', 'v/1', 'u/x-a']) await sut.putIfAbsent(n, bytes(n));
      assert.deepEqual(await names(sut, 'u/'), ['u/x-a', 'u/x/1', 'u/x/2', 'u/y']);
      assert.deepEqual(await names(sut, 'u/x/'), ['u/x/1', 'u/x/2']);
      assert.deepEqual(await names(sut, 'u'), ['u-z', 'u/x-a', 'u/x/1', 'u/x/2', 'u/y']);
      assert.deepEqual(await names(sut, 'nothing/'), []);
      const all: Array<{ name: string; size: number }> = [];
      for await (const o of sut.list('')) all.push(o);
      assert.equal(all.length, 6);
      assert.equal(all.find((o) => o.name === 'u/y')?.size, 3);
    });

    it('deletes idempotently', async () => {
      const sut = await open();
      await sut.putIfAbsent('d/1', bytes('x'));
      await sut.delete('d/1');
      await sut.delete('d/1');
      assert.equal(await sut.get('d/1'), null);
      assert.deepEqual(await names(sut, 'd/'), []);
    });

    it('refuses names that could escape the target', async () => {
      const sut = await open();
      for (const bad of ['../x', 'a/../../x', '/abs', 'a//b', 'a/./b', '', 'sp ace']) {
        await assert.rejects(sut.putIfAbsent(bad, bytes('x')), Error, bad);
      }
    });

    it('keeps exactly one object when many concurrent puts race for one name', async () => {
      const sut = await open();
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => sut.putIfAbsent('race', bytes(`v${i}`))));
      assert.equal(results.filter(Boolean).length, 1);
      const winner = results.indexOf(true);
      assert.equal(text(await sut.get('race')), `v${winner}`);
    });
  });
}
