// WebDAV photo folders: an image PUT becomes a photo item with its blob; GET, PROPFIND, COPY, MOVE, DELETE, MKCOL and dead properties.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
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
});
