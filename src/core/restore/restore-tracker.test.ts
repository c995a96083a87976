// The restore tracker: what each user is told while an online restore runs.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isKeepsakeError } from '../errors.js';
import { RestoreTracker } from './restore-tracker.js';

describe('restore tracker', () => {
  it('blocks reads of categories not back yet, with a retry hint, and frees them in order', () => {
    let now = 0;
    const sut = new RestoreTracker({ now: () => now });
    sut.plan([
      { userId: 'u1', kind: 'contacts', items: 100 },
      { userId: 'u1', kind: 'photos', items: 10 },
      { userId: 'u2', kind: 'contacts', items: 50 },
    ]);
    assert.equal(sut.isAvailable('u3', 'contacts'), true, 'users outside the restore are unaffected');
    assert.throws(() => sut.requireAvailable('u1', ['contacts']), (e) => isKeepsakeError(e) && e.code === 'restoring' && (e.details?.categories as string[])[0] === 'contacts');
    sut.set('u1', 'contacts', 'restoring');
    now = 1000;
    sut.advance('u1', 'contacts', 60);
    const mine = sut.forUser('u1');
    assert.deepEqual(mine.map((c) => [c.kind, c.state, c.done]), [['contacts', 'restoring', 60], ['photos', 'pending', 0]]);
    assert.ok((mine[0].etaSeconds ?? 0) > 0);
    assert.ok((mine[1].etaSeconds ?? 0) > (mine[0].etaSeconds ?? 0), "photos come after everyone's contacts");
    sut.set('u1', 'contacts', 'verified');
    sut.requireAvailable('u1', ['contacts']);
    assert.throws(() => sut.requireAvailable('u1', ['contacts', 'photos']));
    const o = sut.overall();
    assert.equal(o.running, true);
    assert.deepEqual(o.categories.find((c) => c.kind === 'contacts')?.users.verified, 1);
    assert.equal(o.categories.find((c) => c.kind === 'contacts')?.done, 100);
    sut.set('u1', 'photos', 'quarantined');
    assert.throws(() => sut.requireAvailable('u1', ['photos']), 'a quarantined category is never served as if whole');
    sut.finish();
    assert.equal(sut.overall().running, false);
  });
});
