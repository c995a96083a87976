// Importing .vcf, .ics and zips: dedup, idempotent re-runs, updates as new versions, unsafe zips refused.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import yauzl from 'yauzl';
import yazl from 'yazl';
import { threeEventExport, vcard3, vcard4 } from '../core/content/content-fixtures.js';
import { joinVCards } from '../core/content/split-import.js';
import { writeExport } from './export-zip.js';
import { makeWorld, readAll, seedAccount } from './export-fixtures.js';
import { importFiles } from './import-files.js';

const vcf = (text: string) => ({ name: 'contacts.vcf', bytes: Buffer.from(text) });

function noUidCard(): string {
  return 'BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Old Phone Contact\r\nTEL:+1 555 0100\r\nEND:VCARD\r\n';
}

describe('importFiles', () => {
  it('imports each vCard of a multi-vCard file once, and a second run changes nothing', async () => {
    const w = makeWorld();
    const user = await w.newUser('carol');
    const file = vcf(joinVCards([vcard3(), vcard4(), vcard3('third-uid'), noUidCard()]));
    const first = await importFiles(w.sync, w.photos, w.store, user, [file]);
    assert.deepEqual(first, { created: 4, unchanged: 0, updated: 0, conflicts: 0, rejected: [] });
    assert.equal((await w.store.getCollection(user.id, 'contacts'))!.count, 4);
    const seq = await w.store.lastSeq(user.id);

    const second = await importFiles(w.sync, w.photos, w.store, user, [file]);
    assert.deepEqual(second, { created: 0, unchanged: 4, updated: 0, conflicts: 0, rejected: [] });
    assert.equal(await w.store.lastSeq(user.id), seq);
  });

  it('imports a multi-event .ics once per UID, keeping a recurring event with its exception as one item', async () => {
    const w = makeWorld();
    const user = await w.newUser('dave');
    const file = { name: 'work.ics', bytes: Buffer.from(threeEventExport()) };
    const first = await importFiles(w.sync, w.photos, w.store, user, [file]);
    assert.deepEqual(first, { created: 3, unchanged: 0, updated: 0, conflicts: 0, rejected: [] });
    const standup = await w.store.getItem(user.id, 'calendar', 'standup-1');
    assert.match(standup!.content!, /RECURRENCE-ID/);
    assert.match(standup!.content!, /BEGIN:VTIMEZONE/);
    assert.doesNotMatch(standup!.content!, /METHOD/);
    const seq = await w.store.lastSeq(user.id);

    const second = await importFiles(w.sync, w.photos, w.store, user, [file]);
    assert.equal(second.unchanged, 3);
    assert.equal(second.created + second.updated, 0);
    assert.equal(await w.store.lastSeq(user.id), seq);
  });

  it('puts tasks from an .ics into the tasks collection', async () => {
    const w = makeWorld();
    const user = await w.newUser('erin');
    const ics = [
      'BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//x//y//EN',
      'BEGIN:VTODO', 'UID:todo-9', 'DTSTAMP:20240101T000000Z', 'SUMMARY:Call mum', 'END:VTODO',
      'BEGIN:VEVENT', 'UID:ev-9', 'DTSTAMP:20240101T000000Z', 'DTSTART:20240301T100000Z', 'SUMMARY:Dentist', 'END:VEVENT',
      'END:VCALENDAR', '',
    ].join('\r\n');
    const r = await importFiles(w.sync, w.photos, w.store, user, [{ name: 'mixed.ics', bytes: Buffer.from(ics) }]);
    assert.equal(r.created, 2);
    assert.ok(await w.store.getItem(user.id, 'tasks', 'todo-9'));
    assert.ok(await w.store.getItem(user.id, 'calendar', 'ev-9'));
  });

  it('writes a changed contact as a new version on top, keeping the old one as a revision', async () => {
    const w = makeWorld();
    const user = await w.newUser('frank');
    await importFiles(w.sync, w.photos, w.store, user, [vcf(vcard4())]);
    const before = await w.store.getItem(user.id, 'contacts', 'urn:uuid:4fbe8971-0bc3-424c-9c26-36c3e1eff6b1');
    const edited = vcard4().replace('FN:Grace Hopper', 'FN:Rear Admiral Grace Hopper');
    const r = await importFiles(w.sync, w.photos, w.store, user, [vcf(edited)]);
    assert.deepEqual(r, { created: 0, unchanged: 0, updated: 1, conflicts: 0, rejected: [] });
    const after = await w.store.getItem(user.id, 'contacts', before!.id);
    assert.equal(after!.content, edited);
    const revisions = await w.store.listRevisions(user.id, 'contacts', before!.id);
    assert.deepEqual(revisions.map((x) => [x.version, x.hash, x.reason]), [[before!.version, before!.hash, 'overwritten']]);
  });

  it('reports bad items by id and stores the good ones', async () => {
    const w = makeWorld();
    const user = await w.newUser('gina');
    const bad = 'BEGIN:VCARD\r\nVERSION:2.1\r\nFN:Ancient\r\nUID:old-1\r\nEND:VCARD\r\n';
    const r = await importFiles(w.sync, w.photos, w.store, user, [vcf(joinVCards([vcard4(), bad]))]);
    assert.equal(r.created, 1);
    assert.equal(r.rejected.length, 1);
    assert.deepEqual([r.rejected[0].file, r.rejected[0].id, r.rejected[0].code], ['contacts.vcf', 'old-1', 'invalid_vcard']);
  });

  it('refuses a whole malformed or unknown file with a clear error and stores nothing', async () => {
    const w = makeWorld();
    const user = await w.newUser('hank');
    const r = await importFiles(w.sync, w.photos, w.store, user, [
      vcf('BEGIN:VCARD\r\nVERSION:3.0\r\nFN:x\r\n'),
      { name: 'photo.jpg', bytes: Buffer.from([0xff, 0xd8, 0xff]) },
    ]);
    assert.deepEqual(r.rejected.map((x) => [x.file, x.id, x.code]), [
      ['contacts.vcf', null, 'invalid_vcard'],
      ['photo.jpg', null, 'invalid_request'],
    ]);
    assert.equal(await w.store.lastSeq(user.id), 0);
  });

  it('rejects a zip with a ../ entry and stores nothing', async () => {
    const w = makeWorld();
    const { user: alice } = await seedAccount(w);
    const good = await readAll(writeExport(w.store, w.blobs, alice));
    // yazl refuses to write "../evil", so write "aa/evil" and patch the name in place.
    const zip = new yazl.ZipFile();
    zip.addBuffer(Buffer.from('{"format":"keepsake-export","formatVersion":1,"collections":[]}'), 'manifest.json');
    zip.addBuffer(Buffer.from('pwned'), 'aa/evil');
    zip.end();
    const bytes = await readAll(zip.outputStream);
    const evil = Buffer.from(bytes.toString('latin1').replaceAll('aa/evil', '../evil'), 'latin1');

    const bob = await w.newUser('bob');
    const cols = await w.store.listCollections(bob.id);
    const r = await importFiles(w.sync, w.photos, w.store, bob, [{ name: 'evil.zip', bytes: evil }]);
    assert.equal(r.rejected.length, 1);
    assert.equal(r.rejected[0].code, 'invalid_request');
    assert.match(r.rejected[0].message, /unsafe entry name.*\.\.\/evil/);
    assert.equal(await w.store.lastSeq(bob.id), 0);
    assert.deepEqual(await w.store.listCollections(bob.id), cols);


    // The same guard on an otherwise valid export with one extra entry: still nothing stored.
    const rezip = new yazl.ZipFile();
    const src = await yauzl.fromBufferPromise(good, { lazyEntries: true });
    for await (const entry of src.eachEntry()) rezip.addBuffer(await readAll(await src.openReadStreamPromise(entry)), entry.fileName);
    rezip.addBuffer(Buffer.from('pwned'), 'zz/evil');
    rezip.end();
    const mixed = Buffer.from((await readAll(rezip.outputStream)).toString('latin1').replaceAll('zz/evil', '../evil'), 'latin1');
    const r2 = await importFiles(w.sync, w.photos, w.store, bob, [{ name: 'mixed.zip', bytes: mixed }]);
    assert.deepEqual(r2.rejected.map((x) => [x.id, x.code]), [[null, 'invalid_request']]);
    assert.equal(await w.store.lastSeq(bob.id), 0);
  });

  it('caps how much a zip may unpack to (zip bombs) before storing anything', async () => {
    const w = makeWorld();
    const { user: alice } = await seedAccount(w);
    const zip = await readAll(writeExport(w.store, w.blobs, alice));
    const bob = await w.newUser('bob');
    const r = await importFiles(w.sync, w.photos, w.store, bob, [{ name: 'alice.zip', bytes: zip }], undefined, { maxUncompressedBytes: 4096 });
    assert.equal(r.rejected.length, 1);
    assert.equal(r.rejected[0].code, 'body_too_large');
    assert.match(r.rejected[0].message, /unpacks to more than 4096 bytes/);
    assert.equal(await w.store.lastSeq(bob.id), 0);
    assert.equal((await w.store.listCollections(bob.id)).length, 6);
  });

  it('imports a zip from a path and reports progress per batch', async () => {
    const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'keepsake-import-'));
    try {
      const w = makeWorld();
      const { user: alice } = await seedAccount(w);
      const path = join(dir, 'alice.zip');
      writeFileSync(path, await readAll(writeExport(w.store, w.blobs, alice)));
      const bob = await w.newUser('bob');
      const seen: number[] = [];
      const r = await importFiles(w.sync, w.photos, w.store, bob, [{ name: 'alice.zip', path }], (p) => seen.push(p.items));
      assert.equal(r.created, 12);
      assert.deepEqual(seen, [12]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
