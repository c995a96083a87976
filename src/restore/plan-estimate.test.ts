// The plan's time estimate: the rates of each restore path, and how photos add to it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { estimateSeconds } from './plan-estimate.js';

describe('restore plan estimate', () => {
  const MiB = 1024 * 1024;
  it('the bulk path overlaps photos with records; the item-by-item path adds them; both round up', () => {
    const work = { items: 200_000, bytes: 0, photos: 1000 * MiB };
    assert.equal(estimateSeconds(work, true), 10, 'the longer of 10 s of records and 10 s of photos');
    assert.equal(estimateSeconds({ ...work, photos: 2000 * MiB }, true), 20);
    assert.equal(estimateSeconds(work, false), 60, '40 s of records and 20 s of photos');
    assert.equal(estimateSeconds({ items: 1, bytes: 0, photos: 0 }, false), 1);
    assert.equal(estimateSeconds({ items: 0, bytes: 0, photos: 0 }, true), 0);
  });
});
