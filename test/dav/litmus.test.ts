// litmus (the WebDAV compliance suite) against a photo folder of a real server (SQLite): every test of `basic`, `copymove` and `props` passes.
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Session, startTestServer, type TestServer } from '../helpers/test-server.js';
import { requireBinary, run } from './real-clients.js';

function findLitmus(): string | null {
  try {
    return requireBinary('litmus');
  } catch {
    return null;
  }
}

const litmus = findLitmus();
const SUITES = ['basic', 'copymove', 'props'];

describe('litmus against a photo folder', { skip: litmus ? false : 'litmus is not installed (apt-get install -y litmus; .ci/run does): the WebDAV compliance run is skipped' }, () => {
  let server: TestServer;
  let ada: Session;

  before(async () => {
    server = await startTestServer({ kind: 'sqlite' });
    ada = await server.login('ada');
  });
  after(() => server?.close());

  it(`passes every test of the ${SUITES.join(', ')} suites, and what it leaves is ordinary photo items`, async () => {
    const cwd = join(server.dir, 'litmus');
    await mkdir(cwd, { recursive: true });
    // litmus works in <url>/litmus/, a subfolder it creates and removes again.
    const url = `${server.url}/dav/ada/photos/`;
    const r = await run(litmus!, [url, 'ada', ada.password], { env: { TESTS: SUITES.join(' ') }, cwd, timeoutMs: 180_000 });
    const out = r.stdout + r.stderr;
    for (const suite of SUITES) {
      const summary = new RegExp(`summary for \`${suite}': of (\\d+) tests run: (\\d+) passed, (\\d+) failed`).exec(out);
      assert.ok(summary, `litmus printed no summary for ${suite}:\n${out.slice(-3000)}`);
      assert.equal(summary[3], '0', `litmus ${suite}: ${summary[3]} failed:\n${out.split('\n').filter((l) => /FAIL/.test(l)).join('\n')}`);
      assert.equal(summary[1], summary[2], `litmus ${suite}: not every test passed`);
    }
    assert.doesNotMatch(out, /FAIL/);
    assert.equal(r.code, 0, out.slice(-2000));

    // Everything litmus created went through the store: its files and folders are photos items,
    // and what it deleted is in the trash.
    const trash = (await ada.call('GET', '/api/v1/trash')).body.items as Array<{ content: { name: string; type: string; path?: string } }>;
    assert.ok(trash.length > 10, `litmus's deletes are in the trash (${trash.length})`);
    assert.ok(trash.some((t) => t.content.type === 'inode/directory' && t.content.name === 'litmus'), 'the litmus folder itself was a folder item');
    assert.ok(trash.some((t) => t.content.type === 'application/octet-stream' && t.content.path?.startsWith('litmus')), 'its text files were kept as application/octet-stream files in the litmus folder');
  });
});
