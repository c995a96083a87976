// Runs the blob-store contract against the filesystem adapter, plus its crash-safety tests.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { contentHash } from '../../core/hash.js';
import type { BlobStore } from '../../core/ports/blob-store.js';
import { chunked, describeBlobStore, failingAfter } from '../contract/blob-store.contract.js';
import { type FsBlobStore, openFsBlobStore } from './blob-store.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function freshDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'keepsake-blobs-'));
  dirs.push(dir);
  return join(dir, 'blobs');
}

const roots = new WeakMap<BlobStore, string>();
async function openAt(dir: string): Promise<FsBlobStore> {
  const s = await openFsBlobStore(dir);
  roots.set(s, dir);
  return s;
}

describeBlobStore('fs', {
  open: () => openAt(freshDir()),
  async reopen(store) {
    await store.close();
    return openAt(roots.get(store)!);
  },
});

const MAX = 1024 * 1024;
const pathOf = (root: string, hash: string) => {
  const hex = hash.slice('sha256:'.length);
  return join(root, hex.slice(0, 2), hex.slice(2, 4), hex);
};

describe('FsBlobStore', () => {
  it('putMany stores a batch as put does: names checked against the bytes, existing blobs kept, nothing left in tmp', async () => {
    const root = freshDir();
    const sut = await openAt(root);
    const fresh = Array.from({ length: 20 }, (_, n) => randomBytes(1000 + n));
    const existing = randomBytes(500);
    await sut.put(contentHash(existing), chunked(existing, 100), { maxBytes: MAX });
    const lying = randomBytes(300);
    const batch = [...fresh.map((b) => ({ hash: contentHash(b), bytes: b })), { hash: contentHash(existing), bytes: existing }, { hash: contentHash(randomBytes(300)), bytes: lying }];
    const results = await sut.putMany(batch);
    assert.deepEqual(results.slice(0, 21), [...fresh.map(() => ({ created: true })), { created: false }]);
    const last = results[21];
    assert.ok('error' in last && (last.error as { code?: string }).code === 'blob_hash_mismatch', 'bytes that do not hash to their name are refused');
    assert.equal(existsSync(pathOf(root, batch[21].hash)), false, 'and nothing is stored under that name');
    for (const b of fresh) assert.deepEqual(readFileSync(pathOf(root, contentHash(b))), b);
    assert.deepEqual(readdirSync(join(root, 'tmp')), []);
  });

  it('lays blobs out as <dir>/ab/cd/<hex>', async () => {
    const root = freshDir();
    const sut = await openAt(root);
    const bytes = randomBytes(100);
    const hash = contentHash(bytes);
    await sut.put(hash, chunked(bytes), { maxBytes: MAX });
    assert.ok(existsSync(pathOf(root, hash)));
    assert.deepEqual(readdirSync(join(root, 'tmp')), []);
  });

  it('puts back a blob a sweep had taken out of sight when its process died, and a claim renews the lease', async () => {
    const root = freshDir();
    const sut = await openAt(root);
    const bytes = randomBytes(1000);
    const hash = contentHash(bytes);
    await sut.put(hash, chunked(bytes), { maxBytes: MAX });
    const old = new Date(Date.now() - 48 * 3600 * 1000);
    utimesSync(pathOf(root, hash), old, old);
    await sut.put(hash, chunked(bytes), { maxBytes: MAX });
    assert.ok(statSync(pathOf(root, hash)).mtimeMs > Date.now() - 60_000, 'uploading an existing blob renews its lease');
    mkdirSync(join(root, 'aside'), { recursive: true });
    renameSync(pathOf(root, hash), join(root, 'aside', hash.slice('sha256:'.length)));
    const again = await openAt(root);
    assert.ok(await again.stat(hash), 'the blob is back under its name');
    assert.deepEqual(readdirSync(join(root, 'aside')), []);
  });

  it('removes temp files left by a crashed upload when it opens', async () => {
    const root = freshDir();
    mkdirSync(join(root, 'tmp'), { recursive: true });
    writeFileSync(join(root, 'tmp', 'dead.part'), 'half a photo');
    await openAt(root);
    assert.deepEqual(readdirSync(join(root, 'tmp')), []);
  });

  it('never shows a blob half-written: the final file appears only after the upload completes', async () => {
    const root = freshDir();
    const sut = await openAt(root);
    const bytes = randomBytes(200_000);
    const hash = contentHash(bytes);
    let reached!: () => void;
    let release!: () => void;
    const atGate = new Promise<void>((r) => (reached = r));
    const gate = new Promise<void>((r) => (release = r));
    async function* paused(): AsyncIterable<Uint8Array> {
      yield bytes.subarray(0, 100_000);
      reached();
      await gate;
      yield bytes.subarray(100_000);
    }
    const put = sut.put(hash, paused(), { maxBytes: MAX });
    await atGate;
    assert.equal(await sut.stat(hash), null);
    assert.equal(await sut.get(hash), null);
    assert.equal(existsSync(pathOf(root, hash)), false);
    assert.equal(readdirSync(join(root, 'tmp')).length, 1, 'the bytes so far sit in a temp file');
    release();
    assert.deepEqual(await put, { size: bytes.length, created: true });
    assert.ok(existsSync(pathOf(root, hash)));
    assert.deepEqual(readdirSync(join(root, 'tmp')), []);
  });

  it('leaves nothing behind when the source fails midway (as on ENOSPC)', async () => {
    const root = freshDir();
    const sut = await openAt(root);
    const bytes = randomBytes(50_000);
    const hash = contentHash(bytes);
    const enospc = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    await assert.rejects(sut.put(hash, failingAfter(bytes.subarray(0, 30_000), enospc), { maxBytes: MAX }), { code: 'ENOSPC' });
    assert.deepEqual(readdirSync(join(root, 'tmp')), []);
    assert.deepEqual(readdirSync(root), ['tmp'], 'not even the ab/cd directories were made');
  });

  it('leaves nothing behind for a wrong hash or an oversized blob', async () => {
    const root = freshDir();
    const sut = await openAt(root);
    const bytes = randomBytes(5000);
    await assert.rejects(sut.put(contentHash('other'), chunked(bytes), { maxBytes: MAX }), { code: 'blob_hash_mismatch' });
    await assert.rejects(sut.put(contentHash(bytes), chunked(bytes, 100), { maxBytes: 1000 }), { code: 'blob_too_large' });
    assert.deepEqual(readdirSync(root), ['tmp']);
    assert.deepEqual(readdirSync(join(root, 'tmp')), []);
  });

  it('cannot be steered outside its directory by a blob name', async () => {
    const parent = freshDir();
    const root = join(parent, 'inner');
    const sut = await openAt(root);
    for (const name of ['sha256:../../escape', `sha256:../${'0'.repeat(61)}`, '../../escape']) {
      await assert.rejects(sut.put(name, chunked(Buffer.from('x')), { maxBytes: MAX }), { code: 'invalid_request' });
    }
    assert.deepEqual(readdirSync(parent), ['inner']);
    assert.deepEqual(readdirSync(root), ['tmp']);
  });
});
