// Unit tests for grouping recorded DAV deletes into mass deletions, and what undo covers.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type DavDelete, DELETE_WINDOW_MS, deletesSince, massDeletionsOf } from './delete-watch.js';

const del = (device: string, id: string, at: number, liveAfter: number, collection = 'c'): DavDelete => ({ device, deviceId: `tok-${device}`, collection, id, version: at + 1, at, liveAfter });

describe('DAV mass deletions', () => {
  it('reports a burst by one device once it passes the share of the collection', () => {
    const five = Array.from({ length: 5 }, (_, i) => del('phone', `i${i}`, 1000 + i, 9 - i));
    assert.deepEqual(massDeletionsOf(five, { share: 0.5, minItems: 4 }), [], '5 of 10 is not more than half');
    const six = [...five, del('phone', 'i5', 1005, 4)];
    const [sut] = massDeletionsOf(six, { share: 0.5, minItems: 4 });
    assert.deepEqual([sut.device, sut.deviceId, sut.collection, sut.deletes, sut.liveBefore], ['phone', 'tok-phone', 'c', 6, 10]);
    assert.deepEqual(massDeletionsOf([...five, del('laptop', 'x', 1006, 4)], { share: 0.5, minItems: 4 }), [], 'devices are counted apart');
    assert.deepEqual(massDeletionsOf(six, { share: 0.5, minItems: 10 }), [], 'small collections are not guarded');
  });

  it('does not join deletes further apart than the window, and finds deletes by name or token id since a time', () => {
    const log = [del('phone', 'a', 0, 0), del('phone', 'b', DELETE_WINDOW_MS + 1, 0)];
    assert.deepEqual(massDeletionsOf(log, { share: 0.5, minItems: 0 }).map((m) => m.deletes), [1, 1]);
    assert.deepEqual(deletesSince(log, 'tok-phone', 1).map((d) => d.id), ['b']);
    assert.deepEqual(deletesSince(log, 'phone', 0).map((d) => d.id), ['a', 'b']);
    assert.deepEqual(deletesSince(log, 'laptop', 0), []);
  });
});
