// The fleet simulator against a real SQLite server: a calm run, and a run whose server is wiped
// and later restored to an older point while devices keep editing. Zero lost writes either way.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { type AccountProvisioner, Fleet, runFleet } from '../../src/simulate/index.js';
import { basic, call } from '../helpers/test-server.js';
import { RestartableServer } from './server-fixture.js';

const servers: RestartableServer[] = [];
after(async () => {
  for (const s of servers) await s.close();
});

/** Accounts made in whatever store the (restartable) server has now. */
function provisionerFor(server: RestartableServer): AccountProvisioner {
  return {
    async ensureUser(name, password) {
      try {
        await server.keepsake.accounts.addUser(name, password);
      } catch (e) {
        if ((e as { code?: string }).code !== 'user_exists') throw e;
      }
    },
    async token(name, password, device) {
      const r = await call(server.url, 'POST', '/api/v1/tokens', { device }, basic(name, password));
      if (r.status !== 201) throw new Error(`token ${r.status}`);
      return r.body.token;
    },
    async close() {},
  };
}

const quick = { editIntervalMs: 60, syncIntervalMs: 300, offlineChance: 0.05, offlineSeconds: [0.3, 1.2] as [number, number], photoShare: 0.04, photoBytes: 150_000 };

describe('fleet simulator', () => {
  it('runs users with several devices, checks the server against the ledger: nothing lost', async () => {
    const server = new RestartableServer();
    servers.push(server);
    await server.start();
    const summary = await runFleet({ serverUrl: server.url, users: 3, devices: 3, durationSeconds: 4, createUsers: { dataDir: server.dir }, seed: 1, ...quick });
    assert.deepEqual(summary.errors, []);
    assert.equal(summary.lost, 0, summary.lostItems.join('\n'));
    assert.equal(summary.devicesDiverged, 0);
    // Low bounds: on a saturated machine the devices start late (password hashing) and edit little.
    assert.ok(summary.writes >= 3, `writes ${summary.writes}`);
    assert.ok(summary.syncs >= 9, `syncs ${summary.syncs}`);
    assert.equal(summary.devices, 9);
  });

  it('heals a server wiped and one restored to an older point while devices keep editing', async () => {
    const server = new RestartableServer();
    servers.push(server);
    await server.start();
    const fleet = await Fleet.start({ serverUrl: server.url, users: 2, devices: 3, durationSeconds: 0, createUsers: { provisioner: provisionerFor(server) }, seed: 2, initialItemsPerUser: 30, ...quick });
    try {
      await new Promise((r) => setTimeout(r, 800));
      const backup = await server.snapshot();
      await new Promise((r) => setTimeout(r, 800));
      await server.wipe(); // accounts are lost too: devices sign in again and re-upload
      await fleet.syncAll(); // every device has met the empty server (however busy the machine)
      await new Promise((r) => setTimeout(r, 500));
      await server.restore(backup); // older point, epoch bumped
      await fleet.syncAll();
      await new Promise((r) => setTimeout(r, 500));
      await fleet.stop();
      await fleet.settle();
      const summary = await fleet.verify();
      assert.equal(summary.lost, 0, summary.lostItems.join('\n'));
      assert.equal(summary.devicesDiverged, 0);
      assert.ok(summary.healed > 60, `healed ${summary.healed}`);
      assert.ok(summary.reconciles >= 6, `reconciles ${summary.reconciles}`);
    } finally {
      await fleet.close();
    }
  });
});
