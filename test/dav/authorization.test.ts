// Every DAV method on every kind of DAV path, as nobody and as another user: refused, nothing leaked, nothing changed.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { DAV_METHODS } from '../../src/dav/dav-routes.js';
import { vcard } from '../helpers/fixtures.js';
import { basic, call, type Session, startTestServer, type TestServer } from '../helpers/test-server.js';

const PATHS = [
  '/dav/owner/',
  '/dav/owner/contacts/',
  '/dav/owner/contacts/secret.vcf',
  '/dav/owner/newcol/',
  '/dav/owner/contacts/new.vcf',
  // Photo folders nest: every depth is the owner's too.
  '/dav/owner/photos/album/',
  '/dav/owner/photos/album/secret.txt',
  '/dav/owner/photos/album/new/',
];

function body(method: string): string | undefined {
  switch (method) {
    case 'PROPFIND':
      return '<?xml version="1.0"?><d:propfind xmlns:d="DAV:"><d:allprop/></d:propfind>';
    case 'PROPPATCH':
      return '<d:propertyupdate xmlns:d="DAV:"><d:set><d:prop><d:displayname>hijacked</d:displayname><x:y xmlns:x="urn:x">1</x:y></d:prop></d:set></d:propertyupdate>';
    case 'REPORT':
      return '<d:sync-collection xmlns:d="DAV:"><d:sync-token/><d:sync-level>1</d:sync-level><d:prop><d:getetag/></d:prop></d:sync-collection>';
    case 'PUT':
      return vcard('new', 'Intruder');
    case 'MKCALENDAR':
      return '<c:mkcalendar xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"/>';
    default:
      return undefined;
  }
}

describe('DAV authorization', () => {
  let server: TestServer;
  let owner: Session;
  let intruder: Session;
  let ownerId: string;

  before(async () => {
    server = await startTestServer({ kind: 'sqlite' });
    owner = await server.login('owner');
    intruder = await server.login('intruder');
    ownerId = (await server.keepsake.store.findUserByName('owner'))!.id;
    await owner.call('POST', '/api/v1/changes', {
      changes: [{ changeId: randomUUID(), collection: 'contacts', id: 'secret', baseVersion: 0, content: vcard('secret', 'Secret Person') }],
    });
    await server.keepsake.store.setDavProperties(ownerId, 'contacts', '', { '{urn:x}colour': 'secret colour' });
    const ownerDav = (method: string, path: string, body?: string) => fetch(server.url + path, { method, headers: basic('owner', owner.password), body });
    assert.equal((await ownerDav('MKCOL', '/dav/owner/photos/album/')).status, 201);
    assert.equal((await ownerDav('PUT', '/dav/owner/photos/album/secret.txt', 'Secret Person')).status, 201);
    assert.equal((await ownerDav('PROPPATCH', '/dav/owner/photos/album/secret.txt', '<d:propertyupdate xmlns:d="DAV:"><d:set><d:prop><x:c xmlns:x="urn:x">secret colour</x:c></d:prop></d:set></d:propertyupdate>')).status, 207);
    // The intruder's own contact, to try COPY/MOVE into the owner's space.
    await intruder.call('POST', '/api/v1/changes', {
      changes: [{ changeId: randomUUID(), collection: 'contacts', id: 'new', baseVersion: 0, content: vcard('new', 'Intruder') }],
    });
  });
  after(() => server?.close());

  async function ownerState(): Promise<string> {
    const s = server.keepsake.store;
    return JSON.stringify([
      await s.lastSeq(ownerId),
      await s.listCollections(ownerId, { includeDeleted: true }),
      [...(await s.listDavProperties(ownerId, 'contacts'))],
      await s.listItems(ownerId, 'contacts', { limit: 100, includeDeleted: true }),
      await s.listItems(ownerId, 'photos', { limit: 100, includeDeleted: true }),
    ]);
  }

  async function send(method: string, path: string, headers: Record<string, string>) {
    const res = await fetch(server.url + path, {
      method,
      headers: { depth: '1', destination: `${server.url}/dav/intruder/contacts/copied.vcf`, ...headers },
      body: body(method),
    });
    return { status: res.status, text: await res.text() };
  }

  it('lists every DAV method', () => {
    assert.deepEqual([...DAV_METHODS].sort(), ['COPY', 'DELETE', 'GET', 'HEAD', 'MKCALENDAR', 'MKCOL', 'MOVE', 'OPTIONS', 'PROPFIND', 'PROPPATCH', 'PUT', 'REPORT']);
  });

  it('refuses every method without credentials or with wrong ones', async () => {
    for (const method of DAV_METHODS) {
      if (method === 'OPTIONS') continue;
      for (const path of PATHS) {
        const before = await ownerState();
        // A wrong password counts toward the login limiter, so it is tried on one path per method (401, then 429).
        const wrongPassword = path === PATHS[0] ? [basic('owner', 'wrong-password')] : [];
        for (const headers of [{}, ...wrongPassword, basic('owner', 'ks_forged'), { authorization: 'Bearer ks_forged' }]) {
          const r = await send(method, path, headers);
          const refused = r.status === 401 || (headers === wrongPassword[0] && r.status === 429);
          assert.ok(refused, `${method} ${path} with ${JSON.stringify(headers)} answered ${r.status}`);
          assert.ok(!r.text.includes('Secret Person') && !r.text.includes('secret colour'), `${method} ${path} leaked`);
        }
        assert.equal(await ownerState(), before, `${method} ${path} changed the owner's data`);
      }
    }
  });

  it("refuses every method on another user's paths, by password, app password or token", async () => {
    const logins = [basic('intruder', intruder.password), basic('intruder', intruder.token), { authorization: `Bearer ${intruder.token}` }];
    for (const method of DAV_METHODS) {
      if (method === 'OPTIONS') continue;
      for (const path of PATHS) {
        for (const headers of logins) {
          const before = await ownerState();
          const r = await send(method, path, headers);
          assert.equal(r.status, 403, `${method} ${path} as the intruder answered ${r.status}: ${r.text}`);
          assert.ok(!r.text.includes('Secret Person') && !r.text.includes('secret colour') && !r.text.includes(ownerId), `${method} ${path} leaked`);
          assert.equal(await ownerState(), before, `${method} ${path} as the intruder changed the owner's data`);
        }
      }
    }
  });

  it("refuses COPY and MOVE from one's own space into another user's", async () => {
    for (const method of ['COPY', 'MOVE']) {
      const before = await ownerState();
      const r = await fetch(`${server.url}/dav/intruder/contacts/new.vcf`, {
        method,
        headers: { ...basic('intruder', intruder.token), destination: `${server.url}/dav/owner/contacts/new.vcf` },
      });
      assert.equal(r.status, 403, `${method} into the owner's space answered ${r.status}`);
      assert.equal(await ownerState(), before);
    }
    assert.equal((await intruder.call('GET', '/api/v1/items/contacts/new')).body.deleted, false, 'a refused MOVE deleted nothing');
    // The same for files and folders of photo collections.
    const own = (method: string, path: string, headers: Record<string, string> = {}, body?: string) =>
      fetch(server.url + path, { method, headers: { ...basic('intruder', intruder.token), ...headers }, body });
    assert.equal((await own('PUT', '/dav/intruder/photos/mine.txt', {}, 'mine')).status, 201);
    assert.equal((await own('MKCOL', '/dav/intruder/photos/dir/')).status, 201);
    for (const method of ['COPY', 'MOVE']) {
      for (const [from, to] of [
        ['/dav/intruder/photos/mine.txt', '/dav/owner/photos/album/mine.txt'],
        ['/dav/intruder/photos/dir/', '/dav/owner/photos/album/dir/'],
        ['/dav/intruder/photos/mine.txt', '/dav/owner/photos/album/secret.txt'],
      ]) {
        const before = await ownerState();
        const r = await own(method, from, { destination: `${server.url}${to}`, overwrite: 'T' });
        assert.equal(r.status, 403, `${method} ${from} → ${to} answered ${r.status}`);
        assert.equal(await ownerState(), before);
      }
    }
    assert.equal((await own('GET', '/dav/intruder/photos/mine.txt')).status, 200, 'a refused MOVE deleted nothing');
  });

  it('stops accepting a password at once when it is changed or the account is deleted', async () => {
    await server.keepsake.accounts.addUser('carol', 'carol-password-1');
    const propfind = (pw: string) => send('PROPFIND', '/dav/carol/', basic('carol', pw));
    assert.equal((await propfind('carol-password-1')).status, 207);
    await server.keepsake.accounts.setPassword('carol', 'carol-password-2');
    assert.equal((await propfind('carol-password-1')).status, 401);
    assert.equal((await propfind('carol-password-2')).status, 207);
    await server.keepsake.accounts.deleteUser('carol');
    assert.equal((await propfind('carol-password-2')).status, 401);
  });

  it('stops accepting a device token at once when it is revoked, as app password or Bearer, though it was just verified', async () => {
    const dave = await server.login('dave');
    const user = (await server.keepsake.store.findUserByName('dave'))!;
    const [device] = await server.keepsake.accounts.listDevices(user);
    const asApp = () => send('PROPFIND', '/dav/dave/', basic('dave', dave.token));
    const asBearer = () => send('PROPFIND', '/dav/dave/', { authorization: `Bearer ${dave.token}` });
    for (let i = 0; i < 2; i++) {
      assert.equal((await asApp()).status, 207);
      assert.equal((await asBearer()).status, 207);
    }
    // Revoked through the API, as a user does from another device.
    const other = await call(server.url, 'POST', '/api/v1/tokens', { device: 'laptop' }, basic('dave', dave.password));
    assert.equal((await call(server.url, 'DELETE', `/api/v1/tokens/${device.id}`, undefined, { authorization: `Bearer ${other.body.token}` })).status, 204);
    assert.equal((await asApp()).status, 401);
    assert.equal((await asBearer()).status, 401);
  });

  it("a verified header is no key to another user's paths, and another name with the same token is no login", async () => {
    const own = () => send('PROPFIND', '/dav/intruder/', basic('intruder', intruder.token));
    assert.equal((await own()).status, 207);
    assert.equal((await own()).status, 207);
    for (const path of ['/dav/owner/', '/dav/owner/contacts/', '/dav/owner/contacts/secret.vcf']) {
      const before = await ownerState();
      for (const method of ['PROPFIND', 'GET', 'PUT', 'DELETE']) {
        const r = await send(method, path, basic('intruder', intruder.token));
        assert.ok(r.status === 403 || r.status === 405, `${method} ${path} answered ${r.status}`);
        assert.ok(!r.text.includes('Secret Person'));
      }
      assert.equal(await ownerState(), before);
    }
    assert.equal((await send('PROPFIND', '/dav/owner/', basic('owner', intruder.token))).status, 401);
    // Earlier tests' wrong passwords may have tripped the login limiter for "owner": refused either way.
    assert.ok([401, 429].includes((await send('PROPFIND', '/dav/owner/', basic('owner', owner.password + 'x'))).status));
  });

  it('a token removed by another process (the CLI on the same store) stops working within the 5 s cache bound', async () => {
    const erin = await server.login('erin');
    const user = (await server.keepsake.store.findUserByName('erin'))!;
    const propfind = () => send('PROPFIND', '/dav/erin/', basic('erin', erin.token));
    assert.equal((await propfind()).status, 207);
    // Straight in the store: no AccountService of this process hears of it.
    for (const t of await server.keepsake.store.listTokens(user.id)) await server.keepsake.store.deleteToken(user.id, t.id);
    await new Promise((r) => setTimeout(r, 5_100));
    assert.equal((await propfind()).status, 401);
  });

  it("never lists another user's resources in a multiget, and an app password must match its account", async () => {
    const r = await fetch(`${server.url}/dav/intruder/contacts/`, {
      method: 'REPORT',
      headers: basic('intruder', intruder.token),
      body: `<c:addressbook-multiget xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:carddav"><d:prop><d:getetag/><c:address-data/></d:prop><d:href>/dav/owner/contacts/secret.vcf</d:href></c:addressbook-multiget>`,
    });
    const text = await r.text();
    assert.equal(r.status, 207);
    assert.ok(!text.includes('Secret Person'));
    assert.match(text, /404 Not Found/);
    // The intruder's token with the owner's name is no login at all.
    assert.equal((await send('PROPFIND', '/dav/owner/', basic('owner', intruder.token))).status, 401);
  });
});
