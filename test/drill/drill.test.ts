// A small disaster drill in the suite: zero acknowledged writes lost is the only pass.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runDrill } from '../../src/drill/drill.js';

describe('keepsake drill', () => {
  it('destroys the database and one backup mid-load, restores online, and loses nothing', async () => {
    const r = await runDrill({ users: 3, devices: 2, durationSeconds: 8 });
    assert.equal(r.lost, 0, `lost: ${r.lostItems.join(', ')}`);
    assert.equal(r.devicesDiverged, 0);
    assert.ok(r.writesBeforeDisaster > 0, 'the disaster struck under load');
    assert.ok(r.writesAcknowledged > r.writesBeforeDisaster, 'devices kept writing after the restart');
    assert.ok(r.allBackSeconds !== null && r.contactsBackSeconds !== null && r.contactsBackSeconds <= r.allBackSeconds);
    assert.equal(r.quarantinedCategories, 0);
    assert.equal(r.pass, true);
  });
});
