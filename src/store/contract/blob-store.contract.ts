// One contract suite that every BlobStore adapter must pass (memory, filesystem, S3).
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { KeepsakeError } from '../../core/errors.js';
import { contentHash } from '../../core/hash.js';
import type { BlobStore } from '../../core/ports/blob-store.js';

/** How the contract suite gets stores of one adapter. */
export interface BlobStoreFactory {
  /** A new, empty store. */
  open(): Promise<BlobStore>;
  /** Close `store` and open the same data again; omitted for stores that do not persist. */
  reopen?(store: BlobStore): Promise<BlobStore>;
}

const MAX = 10 * 1024 * 1024;

/** Yields `bytes` in chunks of `size`, as a network upload would arrive. */
export async function* chunked(bytes: Uint8Array, size = 64 * 1024): AsyncIterable<Uint8Array> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

/** Yields `good` and then throws `error`, as a connection that drops (or a full disk) would. */
export async function* failingAfter(good: Uint8Array, error: Error): AsyncIterable<Uint8Array> {
  yield* chunked(good, 1024);
  throw error;
}

/** Concatenates a blob's stream. */
export async function readAll(source: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of source) parts.push(Buffer.from(chunk));
  return Buffer.concat(parts);
}

async function names(store: BlobStore): Promise<string[]> {
  const out: string[] = [];
  for await (const name of store.list()) out.push(name);
  return out.sort();
}

/** Asserts that `hash` is not visible through any lookup. */
async function assertAbsent(store: BlobStore, hash: string): Promise<void> {
  assert.equal(await store.stat(hash), null);
  assert.equal(await store.get(hash), null);
  assert.ok(!(await names(store)).includes(hash), `${hash} is not listed`);
}

/** Registers the contract tests for one adapter. */
export function describeBlobStore(name: string, factory: BlobStoreFactory): void {
  describe(`BlobStore contract: ${name}`, () => {
    const opened: BlobStore[] = [];
    const open = async () => {
      const s = await factory.open();
      opened.push(s);
      return s;
    };
    after(async () => {
      for (const s of opened) await s.close().catch(() => {});
    });

    it('stores bytes under their hash and gives the same bytes back', async () => {
      const sut = await open();
      const bytes = randomBytes(100_000);
      const hash = contentHash(bytes);
      assert.deepEqual(await sut.put(hash, chunked(bytes), { maxBytes: MAX }), { size: bytes.length, created: true });
      assert.deepEqual(await sut.stat(hash), { size: bytes.length });
      const body = await sut.get(hash);
      assert.ok(body);
      assert.ok((await readAll(body)).equals(bytes));
    });

    it('is idempotent: the same blob again is accepted with created=false', async () => {
      const sut = await open();
      const bytes = randomBytes(5000);
      const hash = contentHash(bytes);
      await sut.put(hash, chunked(bytes), { maxBytes: MAX });
      assert.deepEqual(await sut.put(hash, chunked(bytes), { maxBytes: MAX }), { size: bytes.length, created: false });
      assert.deepEqual(await names(sut), [hash]);
    });

    it('stores an empty blob', async () => {
      const sut = await open();
      const hash = contentHash(new Uint8Array());
      assert.deepEqual(await sut.put(hash, chunked(new Uint8Array()), { maxBytes: MAX }), { size: 0, created: true });
      assert.deepEqual(await sut.stat(hash), { size: 0 });
      assert.equal((await readAll((await sut.get(hash))!)).length, 0);
    });

    it('refuses bytes that do not match their name, and shows nothing', async () => {
      const sut = await open();
      const claimed = contentHash('something else');
      const err = await sut.put(claimed, chunked(randomBytes(3000)), { maxBytes: MAX }).then(
        () => assert.fail('put should reject'),
        (e: unknown) => e,
      );
      assert.ok(err instanceof KeepsakeError);
      assert.equal(err.code, 'blob_hash_mismatch');
      await assertAbsent(sut, claimed);
    });

    it('checks the bytes even when the blob already exists (knowing a hash is not owning the photo)', async () => {
      const sut = await open();
      const bytes = randomBytes(2000);
      const hash = contentHash(bytes);
      await sut.put(hash, chunked(bytes), { maxBytes: MAX });
      await assert.rejects(sut.put(hash, chunked(randomBytes(2000)), { maxBytes: MAX }), { code: 'blob_hash_mismatch' });
      assert.ok((await readAll((await sut.get(hash))!)).equals(bytes), 'the stored blob is untouched');
    });

    it('refuses a blob over maxBytes, and shows nothing', async () => {
      const sut = await open();
      const bytes = randomBytes(10_001);
      const hash = contentHash(bytes);
      const err = await sut.put(hash, chunked(bytes, 1000), { maxBytes: 10_000 }).then(
        () => assert.fail('put should reject'),
        (e: unknown) => e,
      );
      assert.ok(err instanceof KeepsakeError);
      assert.equal(err.code, 'blob_too_large');
      await assertAbsent(sut, hash);
      const exact = bytes.subarray(0, 10_000);
      assert.equal((await sut.put(contentHash(exact), chunked(exact, 1000), { maxBytes: 10_000 })).created, true);
    });

    it('passes on an error thrown by the source midway, and shows nothing', async () => {
      const sut = await open();
      const bytes = randomBytes(8000);
      const hash = contentHash(bytes);
      const boom = new Error('connection reset');
      await assert.rejects(sut.put(hash, failingAfter(bytes.subarray(0, 4000), boom), { maxBytes: MAX }), (e) => e === boom);
      await assertAbsent(sut, hash);
      // and the same blob can still be uploaded afterwards
      assert.equal((await sut.put(hash, chunked(bytes), { maxBytes: MAX })).created, true);
    });

    it('answers null for a missing blob', async () => {
      const sut = await open();
      await assertAbsent(sut, contentHash('never stored'));
    });

    it('treats malformed names as data, never as paths', async () => {
      const sut = await open();
      const bad = ['sha256:../../../etc/passwd', `sha256:${'A'.repeat(64)}`, `md5:${'0'.repeat(64)}`, `sha256:${'0'.repeat(63)}/`, ''];
      for (const name of bad) {
        assert.equal(await sut.stat(name), null, name);
        assert.equal(await sut.get(name), null, name);
        await assert.rejects(sut.put(name, chunked(Buffer.from('x')), { maxBytes: MAX }), { code: 'invalid_request' });
      }
      assert.deepEqual(await names(sut), []);
    });

    it('lists every stored blob by name', async () => {
      const sut = await open();
      const stored: string[] = [];
      for (let i = 0; i < 5; i++) {
        const bytes = randomBytes(100 + i);
        stored.push(contentHash(bytes));
        await sut.put(contentHash(bytes), chunked(bytes), { maxBytes: MAX });
      }
      assert.deepEqual(await names(sut), stored.sort());
    });

    it('streams a large blob in and out', async () => {
      const sut = await open();
      const bytes = randomBytes(5 * 1024 * 1024);
      const hash = contentHash(bytes);
      assert.deepEqual(await sut.put(hash, chunked(bytes), { maxBytes: MAX }), { size: bytes.length, created: true });
      const h = createHash('sha256');
      let size = 0;
      for await (const chunk of (await sut.get(hash))!) {
        h.update(chunk);
        size += chunk.length;
      }
      assert.equal(size, bytes.length);
      assert.equal(`sha256:${h.digest('hex')}`, hash);
    });

    it('sweeps only unreferenced blobs whose lease ran out; an upload while it runs keeps its blob', async () => {
      const sut = await open();
      const [a, b, c] = ['swept', 'still referenced', 'claimed mid-sweep'].map((t) => Buffer.from(t));
      for (const bytes of [a, b, c]) await sut.put(contentHash(bytes), chunked(bytes), { maxBytes: MAX });
      const later = Date.now() + 60_000;
      // Not old enough: nothing is touched, whatever the references say.
      assert.deepEqual(await sut.removeUnused([contentHash(a)], { untouchedSince: Date.now() - 60_000, stillUnused: async (h) => new Set(h) }), []);
      assert.ok(await sut.stat(contentHash(a)));
      let asked: string[] = [];
      const removed = await sut.removeUnused([contentHash(a), contentHash(b), contentHash(c)], {
        untouchedSince: later,
        stillUnused: async (hashes) => {
          asked = [...hashes].sort();
          // While the candidates are out of sight another user uploads `c` again (and will refer to it).
          await sut.put(contentHash(c), chunked(c), { maxBytes: MAX });
          return new Set(hashes.filter((h) => h !== contentHash(b)));
        },
      });
      assert.deepEqual(asked, [contentHash(a), contentHash(b), contentHash(c)].sort());
      assert.deepEqual(removed, [contentHash(a)]);
      await assertAbsent(sut, contentHash(a));
      for (const kept of [b, c]) assert.deepEqual(await readAll((await sut.get(contentHash(kept)))!), kept);
      assert.deepEqual(await names(sut), [contentHash(b), contentHash(c)].sort());
    });

    it('concurrent puts of one blob both succeed and create it once', async () => {
      const sut = await open();
      const bytes = randomBytes(300_000);
      const hash = contentHash(bytes);
      const results = await Promise.all([1, 2, 3].map(() => sut.put(hash, chunked(bytes), { maxBytes: MAX })));
      assert.equal(results.filter((r) => r.created).length, 1);
      assert.ok((await readAll((await sut.get(hash))!)).equals(bytes));
    });

    if (factory.reopen) {
      const reopen = factory.reopen;
      it('keeps blobs across close and reopen', async () => {
        const sut = await open();
        const bytes = randomBytes(1234);
        const hash = contentHash(bytes);
        await sut.put(hash, chunked(bytes), { maxBytes: MAX });
        const again = await reopen(sut);
        opened.push(again);
        assert.deepEqual(await again.stat(hash), { size: 1234 });
        assert.deepEqual(await names(again), [hash]);
      });
    }
  });
}
