// Unit tests for the DAV mass-deletion record: bursts per device and collection, and what undo covers.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DELETE_WINDOW_MS, DeleteWatch } from './delete-watch.js';

describe('DeleteWatch', () => {
  const phone = { name: 'phone', id: 'tok-1' };
  const laptop = { name: 'laptop', id: 'tok-2' };

  it('records a burst once it passes the share of the collection, per device', () => {
    const sut = new DeleteWatch({ share: 0.5, minItems: 4 });
    let live = 10;
    const results = [];
    for (let i = 0; i < 6; i++) results.push(sut.record('u', phone, { collection: 'c', id: `i${i}`, version: i + 1, at: 1000 + i }, --live));
    assert.deepEqual(results.map((r) => r !== null), [false, false, false, false, false, true]);
    assert.equal(sut.massDeletions('u')[0].deletes, 6);
    assert.equal(sut.record('u', laptop, { collection: 'c', id: 'x', version: 9, at: 2000 }, --live), null, 'another device starts its own count');
    assert.deepEqual(sut.massDeletions('other'), []);
  });

  it('does not join deletes further apart than the window, and finds deletes by name or token id since a time', () => {
    const sut = new DeleteWatch({ share: 0.5, minItems: 1 });
    sut.record('u', phone, { collection: 'c', id: 'a', version: 1, at: 0 }, 3);
    assert.equal(sut.record('u', phone, { collection: 'c', id: 'b', version: 2, at: DELETE_WINDOW_MS + 1 }, 2), null);
    assert.deepEqual(sut.deletesSince('u', 'tok-1', 1).map((d) => d.id), ['b']);
    assert.deepEqual(sut.deletesSince('u', 'phone', 0).map((d) => d.id), ['a', 'b']);
  });
});
