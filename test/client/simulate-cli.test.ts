// `keepsake simulate` as a user runs it: against a running server, accounts in its --data store,
// or through the admin API; bad numbers are refused with the flag named.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { basic, call } from '../helpers/test-server.js';
import { RestartableServer } from './server-fixture.js';

const server = new RestartableServer();
after(() => server.close());

describe('keepsake simulate', () => {
  it('drives devices against a server and reports zero lost writes (accounts via --data, then --admin-token)', async () => {
    await server.start();
    const fast = ['--users', '2', '--devices', '2', '--duration', '1', '--edit-interval', '100', '--sync-interval', '300', '--photo-size', '20000'];
    const r = await runCli(['simulate', '--server', server.url, '--data', server.dir, '--seed', '3', ...fast]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /simulated 2 users × 2 devices/);
    assert.match(r.stdout, /lost writes +0\n/);
    assert.match(r.stdout, /devices diverged +0/);

    await server.keepsake.accounts.addUser('sim-admin', 'sim-admin-password', { admin: true });
    const tok = await call(server.url, 'POST', '/api/v1/tokens', { device: 'cli' }, basic('sim-admin', 'sim-admin-password'));
    const j = await runCli(['simulate', '--server', server.url, '--admin-token', tok.body.token, '--json', ...fast]);
    assert.equal(j.code, 0, j.stderr);
    const summary = JSON.parse(j.stdout);
    assert.equal(summary.lost, 0);
    assert.equal(summary.devices, 4);
  });

  it('refuses a bad number, naming the flag', async () => {
    const r = await runCli(['simulate', '--server', 'http://127.0.0.1:9', '--users', 'many']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /invalid --users "many"/);
  });
});
