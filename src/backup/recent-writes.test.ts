// RecentWrites: only a gap-free run right after a target's progress is ever handed out, and memory stays bounded.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ChangeOutcome, StoredItem } from '../core/model.js';
import { RecentWrites } from './recent-writes.js';

const item = (version: number): StoredItem => ({
  collection: 'notes',
  id: `n${version}`,
  version,
  hash: `sha256:${'a'.repeat(64)}`,
  modified: '2026-01-01T00:00:00.000Z',
  deleted: false,
  content: '{}',
});
const applied = (...versions: number[]): ChangeOutcome[] => versions.map((v) => ({ status: 'applied', item: item(v) }));
const versions = (sut: RecentWrites, user: string, after: number, max = 100) => sut.runAfter(user, after, max).map((r) => r.version);

describe('RecentWrites', () => {
  it('hands out only the run without a gap right after the asked number', () => {
    const sut = new RecentWrites();
    sut.add('u', applied(3, 4, 5), 0);
    // A conflict copy takes number 6 without a row in its outcome: the run stops before it.
    sut.add('u', [{ status: 'conflict', item: item(5), revision: 6 }, ...applied(7)], 0);
    assert.deepEqual(versions(sut, 'u', 2), [3, 4, 5]);
    assert.deepEqual(versions(sut, 'u', 1), [], '2 is not kept: the store is read from 1 on');
    assert.deepEqual(versions(sut, 'u', 4), [5]);
    assert.deepEqual(versions(sut, 'u', 6), [7]);
    assert.deepEqual(versions(sut, 'u', 2, 2), [3, 4], 'at most max');
    assert.deepEqual(versions(sut, 'other', 0), []);
    assert.equal(sut.runAfter('u', 2, 1)[0].type, 'item');
  });

  it('keeps one record per number in order, whatever order writes report them in', () => {
    const sut = new RecentWrites();
    sut.add('u', applied(2), 0);
    sut.add('u', applied(1), 0);
    sut.add('u', applied(2, 3), 0); // a no-op answers with the row it already had
    assert.deepEqual(versions(sut, 'u', 0), [1, 2, 3]);
    assert.equal(sut.size, 3);
  });

  it('skips what every target has, forgets what was shipped, and drops everything past its bound', () => {
    const sut = new RecentWrites(5);
    sut.add('u', applied(1, 2, 3), 2);
    assert.deepEqual(versions(sut, 'u', 2), [3]);
    sut.add('u', applied(4, 5), 0);
    sut.forget('u', 4);
    assert.deepEqual(versions(sut, 'u', 4), [5]);
    assert.equal(sut.size, 1);
    sut.add('v', applied(1, 2, 3, 4), 0);
    assert.equal(sut.size, 5);
    sut.add('v', applied(5), 0);
    assert.equal(sut.size, 0, 'over the bound: targets read from the store instead');
    assert.deepEqual(versions(sut, 'v', 0), []);
  });
});
