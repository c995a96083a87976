// WebDAV photo folders: files (images and anything else) and nested folders are photos items with their blobs; GET, PROPFIND, COPY, MOVE, DELETE, MKCOL, dead properties.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { resolveConfig } from '../../src/config/config-schema.js';
import { buildHttpServer } from '../../src/http/server.js';
import { openKeepsake } from '../../src/wiring/open-keepsake.js';
import { png, sha256 } from '../helpers/fixtures.js';
import { basic, type Session, startTestServer, type TestServer } from '../helpers/test-server.js';

describe('WebDAV photo folders', () => {
  let server: TestServer;
  let ada: Session;

  before(async () => {
    server = await startTestServer({ kind: 'sqlite' });
    ada = await server.login('ada');
  });
  after(() => server?.close());

  async function dav(method: string, path: string, body?: string | Buffer, headers: Record<string, string> = {}) {
    const res = await fetch(server.url + path, { method, headers: { ...basic('ada', ada.password), ...headers }, body });
    return { status: res.status, bytes: Buffer.from(await res.arrayBuffer()), headers: res.headers };
  }

  it('stores an uploaded image as a photo item with its blob, and serves, copies, moves and deletes it', async () => {
    const img = png('holiday');
    const put = await dav('PUT', '/dav/ada/photos/beach.png', img);
    assert.equal(put.status, 201);
    const item = (await ada.call('GET', '/api/v1/items/photos/beach.png')).body;
    assert.deepEqual(item.content, { blob: sha256(img), name: 'beach.png', type: 'image/png', size: img.length });
    assert.equal(put.headers.get('etag'), `"${item.hash}"`);
    const got = await dav('GET', '/dav/ada/photos/beach.png');
    assert.equal(got.headers.get('content-type'), 'image/png');
    assert.ok(got.bytes.equals(img), 'GET returns the uploaded bytes');
    assert.ok((await ada.call('GET', `/api/v1/blobs/${sha256(img)}`)).status === 200, 'the blob is readable through the API too');

    const list = (await dav('PROPFIND', '/dav/ada/photos/', undefined, { depth: '1' })).bytes.toString();
    assert.match(list, /<D:href>\/dav\/ada\/photos\/beach.png<\/D:href>/);
    assert.match(list, /<D:getcontenttype>image\/png<\/D:getcontenttype>/);
    assert.match(list, new RegExp(`<D:getcontentlength>${img.length}</D:getcontentlength>`));

    assert.equal((await dav('MKCOL', '/dav/ada/album/')).status, 201);
    assert.equal((await dav('COPY', '/dav/ada/photos/beach.png', undefined, { destination: `${server.url}/dav/ada/album/beach-copy.png` })).status, 201);
    assert.equal((await dav('COPY', '/dav/ada/photos/beach.png', undefined, { destination: `${server.url}/dav/ada/album/beach-copy.png`, overwrite: 'F' })).status, 412);
    assert.equal((await dav('MOVE', '/dav/ada/photos/beach.png', undefined, { destination: `${server.url}/dav/ada/album/moved.png` })).status, 201);
    assert.equal((await dav('GET', '/dav/ada/photos/beach.png')).status, 404);
    assert.ok((await dav('GET', '/dav/ada/album/moved.png')).bytes.equals(img));
    assert.equal((await ada.call('GET', '/api/v1/items/photos/beach.png')).body.deleted, true, 'the move left a tombstone: the original is in the trash');

    const patch = await dav('PROPPATCH', '/dav/ada/album/moved.png', '<d:propertyupdate xmlns:d="DAV:" xmlns:z="http://example.com/z"><d:set><d:prop><z:rating>5</z:rating></d:prop></d:set></d:propertyupdate>');
    assert.equal(patch.status, 207);
    const props = (await dav('PROPFIND', '/dav/ada/album/moved.png', '<d:propfind xmlns:d="DAV:" xmlns:z="http://example.com/z"><d:prop><z:rating/></d:prop></d:propfind>')).bytes.toString();
    assert.match(props, /<x:rating xmlns:x="http:\/\/example.com\/z">5<\/x:rating>/);

    assert.equal((await dav('DELETE', '/dav/ada/album/moved.png')).status, 204);
    assert.deepEqual((await ada.call('GET', '/api/v1/trash')).body.items.map((t: { id: string }) => t.id).sort(), ['beach.png', 'moved.png']);
  });

  it('keeps nested folders and non-image files as photos items with a path, and moves them in place', async () => {
    const api = (path: string) => ada.call('GET', `/api/v1/items/photos/${encodeURIComponent(path)}`);
    const items = async () => {
      const all = (await ada.call('GET', '/api/v1/changes?limit=5000')).body.changes as Array<{ id: string; collection: string; deleted: boolean; content: Record<string, unknown> }>;
      const live = new Map<string, Record<string, unknown>>();
      for (const c of all) if (c.collection === 'photos') c.deleted ? live.delete(c.id) : live.set(c.id, c.content);
      return live;
    };
    assert.equal((await dav('MKCOL', '/dav/ada/photos/2024/')).status, 201);
    assert.equal((await dav('MKCOL', '/dav/ada/photos/2024/')).status, 405, 'MKCOL on an existing folder');
    assert.equal((await dav('MKCOL', '/dav/ada/photos/2024/trip/')).status, 201);
    assert.equal((await dav('MKCOL', '/dav/ada/photos/nowhere/trip/')).status, 409, 'MKCOL without its parent');
    const clip = Buffer.from('\u0000\u0000\u0000\u0018ftypqt  not really a movie');
    assert.equal((await dav('PUT', '/dav/ada/photos/2024/trip/clip.mov', clip)).status, 201);
    const img = png('trip');
    assert.equal((await dav('PUT', '/dav/ada/photos/2024/trip/beach.png', img)).status, 201);
    assert.equal((await dav('PUT', '/dav/ada/photos/2024/trip/IMG_1.xmp', '<x:xmpmeta xmlns:x="adobe:ns:meta/"/>')).status, 201);

    const byName = new Map<string, Record<string, unknown>>([...(await items()).entries()].map(([id, c]) => [`${c.path ?? ''}/${c.name}`.replace(/^\//, ''), { id, ...c }]));
    const movie = byName.get('2024/trip/clip.mov')!;
    assert.deepEqual({ ...movie, id: undefined }, { id: undefined, blob: sha256(clip), name: 'clip.mov', path: '2024/trip', type: 'application/octet-stream', size: clip.length });
    assert.equal(byName.get('2024/trip/beach.png')!.type, 'image/png');
    assert.equal(byName.get('2024/trip')!.type, 'inode/directory');
    for (const { id } of byName.values()) assert.doesNotMatch(id as string, /\//, 'item ids never hold a path');

    const got = await dav('GET', '/dav/ada/photos/2024/trip/clip.mov');
    assert.ok(got.bytes.equals(clip));
    assert.equal(got.headers.get('content-type'), 'video/quicktime');
    const listing = (await dav('PROPFIND', '/dav/ada/photos/2024/', undefined, { depth: '1' })).bytes.toString();
    assert.match(listing, /<D:href>\/dav\/ada\/photos\/2024\/trip\/<\/D:href><D:propstat><D:prop><D:resourcetype><D:collection\/><\/D:resourcetype>/);
    assert.doesNotMatch(listing, /clip\.mov/, 'Depth 1 lists direct members only');

    // The JSON API keeps its magic-byte check: an image type must match the bytes, unknown bytes are never an image.
    const push = async (content: unknown) =>
      (await ada.call('POST', '/api/v1/changes', { changes: [{ changeId: randomUUID(), collection: 'photos', id: `p-${randomUUID()}`, baseVersion: 0, content }] })).body.results[0];
    const lie = await push({ blob: sha256(clip), name: 'clip.png', type: 'image/png', size: clip.length });
    assert.equal(lie.status, 'rejected');
    assert.equal(lie.error.code, 'invalid_content');
    const bad = await push({ blob: sha256(img), name: 'x.png', type: 'image/png', size: img.length, path: '../up' });
    assert.equal(bad.error.code, 'invalid_content', 'a path with ".." is refused');

    // MOVE within the collection: same items, new paths, the old versions kept as revisions; nothing in the trash.
    const trashBefore = (await ada.call('GET', '/api/v1/trash')).body.items.length;
    assert.equal((await dav('MOVE', '/dav/ada/photos/2024/', undefined, { destination: `${server.url}/dav/ada/photos/2023/` })).status, 201);
    assert.equal((await dav('GET', '/dav/ada/photos/2024/trip/clip.mov')).status, 404);
    assert.ok((await dav('GET', '/dav/ada/photos/2023/trip/clip.mov')).bytes.equals(clip));
    const moved = (await api(movie.id as string)).body;
    assert.equal(moved.content.path, '2023/trip');
    assert.equal((await ada.call('GET', `/api/v1/items/photos/${movie.id}/revisions`)).body.revisions[0].content.path, '2024/trip');
    assert.equal((await ada.call('GET', '/api/v1/trash')).body.items.length, trashBefore);

    // DELETE of a folder: everything in it goes to the trash and comes back from there.
    assert.equal((await dav('DELETE', '/dav/ada/photos/2023/')).status, 204);
    assert.equal((await dav('PROPFIND', '/dav/ada/photos/2023/', undefined, { depth: '0' })).status, 404);
    assert.equal((await ada.call('GET', '/api/v1/trash')).body.items.length, trashBefore + 5);
    assert.equal((await ada.call('POST', `/api/v1/trash/photos/${movie.id}/restore`)).status, 200);
    assert.ok((await dav('GET', '/dav/ada/photos/2023/trip/clip.mov')).bytes.equals(clip), 'restored from the trash to its folder');
  });

  it('keeps dead properties of files and folders across a restart', async () => {
    const srv = await startTestServer({ kind: 'sqlite' });
    const bob = await srv.login('bob');
    const req = (url: string, method: string, path: string, body?: string) =>
      fetch(url + path, { method, headers: { ...basic('bob', bob.password), depth: '0' }, body }).then(async (r) => ({ status: r.status, text: await r.text() }));
    assert.equal((await req(srv.url, 'MKCOL', '/dav/bob/photos/album/')).status, 201);
    assert.equal((await req(srv.url, 'PUT', '/dav/bob/photos/album/notes.txt', 'hello')).status, 201);
    const set = (what: string) => `<d:propertyupdate xmlns:d="DAV:" xmlns:z="urn:z"><d:set><d:prop><z:rating>${what}</z:rating></d:prop></d:set></d:propertyupdate>`;
    assert.equal((await req(srv.url, 'PROPPATCH', '/dav/bob/photos/album/', set('folder'))).status, 207);
    assert.equal((await req(srv.url, 'PROPPATCH', '/dav/bob/photos/album/notes.txt', set('file'))).status, 207);
    await srv.app.close();
    await srv.keepsake.close();

    const keepsake = await openKeepsake(resolveConfig({ data: srv.dir, port: '0' }, {}));
    const app = await buildHttpServer(keepsake);
    await app.listen({ host: '127.0.0.1', port: 0 });
    const addr = app.server.address();
    const url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
    try {
      const find = '<d:propfind xmlns:d="DAV:" xmlns:z="urn:z"><d:prop><z:rating/></d:prop></d:propfind>';
      assert.match((await req(url, 'PROPFIND', '/dav/bob/photos/album/', find)).text, /<x:rating xmlns:x="urn:z">folder<\/x:rating>/);
      assert.match((await req(url, 'PROPFIND', '/dav/bob/photos/album/notes.txt', find)).text, /<x:rating xmlns:x="urn:z">file<\/x:rating>/);
      assert.equal((await req(url, 'GET', '/dav/bob/photos/album/notes.txt')).text, 'hello');
    } finally {
      await app.close();
      await keepsake.close();
      await rm(srv.dir, { recursive: true, force: true });
    }
  });

  it('sync-collection names photo files and folders by their place in the tree, and deleted ones where they were', async () => {
    const sync = async (token: string) => {
      const body = `<d:sync-collection xmlns:d="DAV:"><d:sync-token>${token}</d:sync-token><d:sync-level>1</d:sync-level><d:prop><d:getetag/><d:resourcetype/></d:prop></d:sync-collection>`;
      const text = (await dav('REPORT', '/dav/ada/photos/', body, { depth: '1' })).bytes.toString();
      return { text, token: /<D:sync-token>([^<]+)<\/D:sync-token>/.exec(text)![1] };
    };
    const start = (await sync('')).token;
    assert.equal((await dav('MKCOL', '/dav/ada/photos/synced/')).status, 201);
    assert.equal((await dav('PUT', '/dav/ada/photos/synced/a%20b.txt', 'text')).status, 201);
    const changed = await sync(start);
    assert.match(changed.text, /<D:href>\/dav\/ada\/photos\/synced\/<\/D:href><D:propstat><D:prop><D:resourcetype><D:collection\/><\/D:resourcetype>/);
    assert.match(changed.text, /<D:href>\/dav\/ada\/photos\/synced\/a%20b.txt<\/D:href><D:propstat><D:prop><D:getetag>/);
    assert.equal((await dav('DELETE', '/dav/ada/photos/synced/')).status, 204);
    const gone = (await sync(changed.token)).text;
    assert.match(gone, /<D:response><D:href>\/dav\/ada\/photos\/synced\/a%20b.txt<\/D:href><D:status>HTTP\/1.1 404 Not Found<\/D:status><\/D:response>/);
    assert.match(gone, /<D:response><D:href>\/dav\/ada\/photos\/synced\/<\/D:href><D:status>HTTP\/1.1 404 Not Found<\/D:status><\/D:response>/);
  });
});
