// Export → import round trips, the zip layout, and what the files hold.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import yauzl from 'yauzl';
import { splitICalendar, splitVCards } from '../core/content/split-import.js';
import type { User } from '../core/model.js';
import type { Manifest } from './export-format.js';
import { writeExport } from './export-zip.js';
import { blobName, makeWorld, pngBytes, push, readAll, seedAccount, type World } from './export-fixtures.js';
import { importFiles } from './import-files.js';

async function unzip(bytes: Buffer): Promise<Map<string, Buffer>> {
  const zip = await yauzl.fromBufferPromise(bytes, { lazyEntries: true });
  const out = new Map<string, Buffer>();
  for await (const entry of zip.eachEntry()) out.set(entry.fileName, await readAll(await zip.openReadStreamPromise(entry)));
  return out;
}

/** Every live item of every collection, as collection → id → hash. */
async function snapshot(world: World, user: User) {
  const cols = await world.store.listCollections(user.id);
  const items = new Map<string, Map<string, string>>();
  for (const c of cols) {
    const m = new Map<string, string>();
    for (const i of await world.store.listItems(user.id, c.id, { limit: 10_000 })) m.set(i.id, i.hash);
    items.set(c.id, m);
  }
  return { collections: cols.map((c) => ({ id: c.id, kind: c.kind, name: c.name, count: c.count, digest: c.digest })), items };
}

describe('writeExport', () => {
  it('exports every kind and imports into a fresh user with identical hashes and digests', async () => {
    const world = makeWorld();
    const { user: alice } = await seedAccount(world);
    const zip = await readAll(writeExport(world.store, world.blobs, alice, { pageSize: 2 }));

    const bob = await world.newUser('bob');
    const report = await importFiles(world.sync, world.photos, world.store, bob, [{ name: 'alice.zip', bytes: zip }]);
    assert.deepEqual(report.rejected, []);
    assert.equal(report.created, 12);
    assert.equal(report.updated + report.unchanged + report.conflicts, 0);

    const a = await snapshot(world, alice);
    const b = await snapshot(world, bob);
    assert.deepEqual(b.collections, a.collections);
    assert.deepEqual(b.items, a.items);
    // Photos came back as bytes bob may read.
    const p2 = JSON.parse((await world.store.getItem(bob.id, 'photos', 'p2'))!.content!) as { blob: string };
    assert.equal(await world.store.hasBlobRef(bob.id, p2.blob), true);

    // Running the same import again changes nothing.
    const seq = await world.store.lastSeq(bob.id);
    const again = await importFiles(world.sync, world.photos, world.store, bob, [{ name: 'alice.zip', bytes: zip }]);
    assert.deepEqual(again, { created: 0, unchanged: 12, updated: 0, conflicts: 0, rejected: [] });
    assert.equal(await world.store.lastSeq(bob.id), seq);
  });

  it('lays out standard files, safe names and a manifest that describes every item', async () => {
    const world = makeWorld();
    const { user } = await seedAccount(world);
    const files = await unzip(await readAll(writeExport(world.store, world.blobs, user, { pageSize: 2 })));
    const names = [...files.keys()].filter((n) => !n.startsWith('data/')).sort();
    assert.deepEqual(names, [
      'calendar/calendar.ics',
      'calendar/work.ics',
      'contacts/contacts.vcf',
      'manifest.json',
      'notes/notes/Shopping _ list (2).md',
      'notes/notes/Shopping _ list.md',
      'notes/notes/_.._etc_passwd.md',
      'photos/photos/IMG_0001 (2).png',
      'photos/photos/IMG_0001 (2).png.json',
      'photos/photos/IMG_0001.png',
      'photos/photos/IMG_0001.png.json',
      'scores/scores.json',
      'tasks/tasks.ics',
    ]);
    for (const n of files.keys()) assert.ok(!n.split('/').includes('..') && !n.startsWith('/'), n);

    const manifest = JSON.parse(files.get('manifest.json')!.toString()) as Manifest;
    assert.equal(manifest.format, 'keepsake-export');
    assert.equal(manifest.formatVersion, 1);
    assert.equal(manifest.user, 'alice');
    assert.equal(manifest.server.id, (await world.store.identity()).id);
    assert.deepEqual(manifest.problems, []);
    for (const col of await world.store.listCollections(user.id)) {
      const m = manifest.collections.find((c) => c.id === col.id)!;
      assert.deepEqual([m.kind, m.name, m.count, m.digest], [col.kind, col.name, col.count, col.digest], col.id);
    }
    assert.equal(manifest.items.length, 12);
    for (const item of manifest.items) {
      const stored = await world.store.getItem(user.id, item.collection, item.id);
      assert.equal(item.hash, stored!.hash);
      assert.equal(item.version, stored!.version);
      assert.ok(files.has(item.path), item.path);
    }
    assert.ok(!manifest.items.some((i) => i.id === 'gone-1'), 'deleted items are not exported');

    // Standard files other programs read.
    assert.equal(splitVCards(files.get('contacts/contacts.vcf')!.toString()).length, 2);
    const ics = files.get('calendar/calendar.ics')!.toString();
    assert.equal(ics.match(/^BEGIN:VCALENDAR/gm)!.length, 1);
    assert.equal(ics.match(/^BEGIN:VTIMEZONE/gm)!.length, 1);
    assert.deepEqual(splitICalendar(ics).map((p) => p.uid).sort(), ['holiday-1', 'standup-1']);
    assert.match(ics, /RECURRENCE-ID;TZID=Europe\/Berlin:20240126T090000/);
    assert.deepEqual(splitICalendar(files.get('tasks/tasks.ics')!.toString()).map((p) => [p.uid, p.kind]), [['task-1', 'tasks']]);
    assert.equal(files.get('notes/notes/Shopping _ list.md')!.toString(), '# Shopping / list\n\nmilk\neggs\nbread\n');
    const scores = JSON.parse(files.get('scores/scores.json')!.toString()) as unknown[];
    assert.deepEqual(scores, [{ id: 's1', game: 'Tetris', score: 123456, achievedAt: '2024-01-01T10:00:00Z', player: 'Ada' }]);
    const photo = files.get('photos/photos/IMG_0001.png')!;
    const sidecar = JSON.parse(files.get('photos/photos/IMG_0001.png.json')!.toString()) as { id: string; size: number; blob: string };
    assert.equal(sidecar.id, 'p1');
    assert.equal(photo.length, sidecar.size);
  });

  it('exports an empty account as a manifest and empty files', async () => {
    const world = makeWorld();
    const user = await world.newUser('empty');
    const files = await unzip(await readAll(writeExport(world.store, world.blobs, user)));
    const manifest = JSON.parse(files.get('manifest.json')!.toString()) as Manifest;
    assert.equal(manifest.collections.length, 6);
    assert.deepEqual(manifest.items, []);
    assert.match(files.get('calendar/calendar.ics')!.toString(), /^BEGIN:VCALENDAR\r\n[\s\S]*END:VCALENDAR\r\n$/);
    assert.deepEqual(JSON.parse(files.get('scores/scores.json')!.toString()), []);
  });

  it('names a photo whose blob is damaged in the manifest instead of failing the export', async () => {
    const world = makeWorld();
    const { user, photoBlobs } = await seedAccount(world);
    (world.blobs as unknown as { blobs: Map<string, Buffer> }).blobs.get(photoBlobs[0])![100] ^= 0xff;
    const files = await unzip(await readAll(writeExport(world.store, world.blobs, user)));
    const manifest = JSON.parse(files.get('manifest.json')!.toString()) as Manifest;
    assert.equal(manifest.problems.length, 1);
    assert.equal(manifest.problems[0].item, 'p1');
    assert.equal(manifest.problems[0].blob, photoBlobs[0]);
  });

  it('reads pages only as fast as the zip is consumed', async () => {
    const world = makeWorld();
    const user = await world.newUser('big');
    // Incompressible 20 KB bodies, so the zip's output buffer fills after a page or two.
    const body = (i: number) => Array.from({ length: 320 }, (_, j) => createHash('sha256').update(`${i}:${j}`).digest('hex')).join('\n');
    await push(world, user, Array.from({ length: 60 }, (_, i) => ({ collection: 'notes', id: `n${String(i).padStart(3, '0')}`, content: { title: `Note ${i}`, body: body(i) } })));
    let pages = 0;
    const counting = Object.create(world.store) as typeof world.store;
    counting.listItems = (...args) => {
      pages++;
      return world.store.listItems(...args);
    };
    const stream = writeExport(counting, world.blobs, user, { pageSize: 5 });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const early = pages;
    await new Promise((resolve) => setTimeout(resolve, 200));
    // Stream buffers hold a few hundred KB; after that the export waits for its reader.
    assert.equal(pages, early, 'the export kept reading while nobody consumed the zip');
    assert.ok(pages < 12, `read ${pages} of 12 pages before anyone consumed the zip`);
    const files = await unzip(await readAll(stream));
    assert.equal([...files.keys()].filter((n) => n.endsWith('.md')).length, 60);
  });

  it('fails the stream with the store error rather than writing a short zip', async () => {
    const world = makeWorld();
    const { user } = await seedAccount(world);
    const broken = Object.create(world.store) as typeof world.store;
    broken.listItems = async () => {
      throw new Error('disk on fire');
    };
    await assert.rejects(readAll(writeExport(broken, world.blobs, user)), /disk on fire/);
  });
});

describe('photo folders (files a WebDAV client put in nested folders)', () => {
  it('syncs folders and non-image files through the JSON API, exports them in their folders, and imports them back', async () => {
    const world = makeWorld();
    const user = await world.newUser('walt');
    const text = Buffer.from('a sidecar a photo app uploaded\n');
    const png = pngBytes('trip');
    const upload = (bytes: Buffer, anyType = false) =>
      world.photos.upload(user, blobName(bytes), (async function* () { yield bytes; })(), { anyType });
    await assert.rejects(upload(text), { code: 'blob_type_unsupported' }, 'the JSON blob route still takes images only');
    await upload(text, true);
    await upload(png);
    const empty = blobName(Buffer.alloc(0));
    await push(world, user, [
      { collection: 'photos', id: 'f1', content: { blob: empty, name: 'Trip', type: 'inode/directory', size: 0 } },
      { collection: 'photos', id: 'f2', content: { blob: empty, name: 'Day 1', type: 'inode/directory', size: 0, path: 'Trip' } },
      { collection: 'photos', id: 'x1', content: { blob: blobName(text), name: 'IMG_1.aae', type: 'application/octet-stream', size: text.length, path: 'Trip' } },
      { collection: 'photos', id: 'p1', content: { blob: blobName(png), name: 'IMG_1.png', type: 'image/png', size: png.length, path: 'Trip/Day 1' } },
    ]);
    // The type must be what the bytes are: text is never an image, an image never "other".
    const { results } = await world.sync.push(user, {
      changes: [
        { changeId: 'bad-1', collection: 'photos', id: 'x2', baseVersion: 0, content: { blob: blobName(text), name: 'fake.png', type: 'image/png', size: text.length } },
        { changeId: 'bad-2', collection: 'photos', id: 'x3', baseVersion: 0, content: { blob: blobName(png), name: 'p.bin', type: 'application/octet-stream', size: png.length } },
        { changeId: 'bad-3', collection: 'photos', id: 'x4', baseVersion: 0, content: { blob: blobName(png), name: 'Dir', type: 'inode/directory', size: 0 } },
      ],
    });
    assert.deepEqual(results.map((r) => r.status === 'rejected' && r.error.code), ['invalid_content', 'invalid_content', 'invalid_content']);

    const zip = await readAll(writeExport(world.store, world.blobs, user));
    const files = await unzip(zip);
    assert.deepEqual(files.get('photos/photos/Trip/IMG_1.aae'), text);
    assert.deepEqual(files.get('photos/photos/Trip/Day 1/IMG_1.png'), png);
    const manifest = JSON.parse(files.get('manifest.json')!.toString()) as Manifest;
    assert.deepEqual(manifest.problems, []);
    assert.equal(manifest.items.find((i) => i.id === 'f2')?.path, 'photos/photos/Trip/Day 1/');

    const heir = await world.newUser('heir');
    const report = await importFiles(world.sync, world.photos, world.store, heir, [{ name: 'walt.zip', bytes: zip }]);
    assert.deepEqual(report.rejected, []);
    assert.deepEqual((await snapshot(world, heir)).items, (await snapshot(world, user)).items);
  });
});
