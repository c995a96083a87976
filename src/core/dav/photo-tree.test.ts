// PhotoTree: folders from paths and folder items, duplicate paths, members, and new item ids.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { StoredItem } from '../model.js';
import { isWithin, newPhotoId, PhotoTree, placeAt } from './photo-tree.js';

const BLOB = `sha256:${'0'.repeat(64)}`;

function item(id: string, content: Record<string, unknown>, deleted = false): StoredItem {
  return { collection: 'photos', id, version: 1, hash: 'h', modified: '2026-01-01T00:00:00Z', deleted, content: deleted ? null : JSON.stringify({ blob: BLOB, size: 1, type: 'image/png', ...content }) };
}

describe('PhotoTree', () => {
  const sut = new PhotoTree([
    item('top', { name: 'top.png' }),
    item('dir', { name: '2024', type: 'inode/directory', size: 0 }),
    item('deep', { name: 'clip.mov', path: '2024/trip/day1', type: 'application/octet-stream' }),
    item('b-dup', { name: 'same.png', path: '2024' }),
    item('a-dup', { name: 'same.png', path: '2024' }),
    item('gone', { name: 'gone.png' }, true),
  ]);

  it('places files by path and name, and folders by folder items or by what lies inside them', () => {
    assert.equal(sut.entry('top.png')?.item.id, 'top');
    assert.equal(sut.isFolder('2024'), true);
    assert.equal(sut.entry('2024')?.folder, true);
    assert.equal(sut.isFolder('2024/trip'), true, 'an implicit folder');
    assert.equal(sut.entry('2024/trip'), null);
    assert.equal(sut.isFolder('top.png'), false);
    assert.equal(sut.exists('gone.png'), false, 'tombstones are not in the tree');
    assert.equal(sut.isFolder(''), true);
  });

  it('shows two items claiming one path side by side, the smaller id at the path', () => {
    assert.equal(sut.entry('2024/same.png')?.item.id, 'a-dup');
    assert.equal(sut.entry('2024/b-dup~same.png')?.item.id, 'b-dup');
  });

  it('lists direct members, and everything inside a folder parents first', () => {
    assert.deepEqual(sut.children('').map((c) => c.path), ['2024', 'top.png']);
    assert.deepEqual(sut.children('2024').map((c) => c.path), ['2024/b-dup~same.png', '2024/same.png', '2024/trip']);
    assert.deepEqual(sut.inside('2024').map((e) => e.item.id).sort(), ['a-dup', 'b-dup', 'deep']);
    assert.equal(sut.inside('')[0].path.split('/').length, 1, 'parents come first');
  });

  it('moves metadata to a new place, dropping path at the top', () => {
    assert.deepEqual(placeAt({ blob: BLOB, name: 'x', type: 'image/png', size: 1, path: 'a' }, 'top.png'), { blob: BLOB, name: 'top.png', type: 'image/png', size: 1 });
    assert.deepEqual(placeAt({ blob: BLOB, name: 'x', type: 'image/png', size: 1 }, 'a/b/c.png'), { blob: BLOB, name: 'c.png', type: 'image/png', size: 1, path: 'a/b' });
    assert.equal(isWithin('a/b', 'a'), true);
    assert.equal(isWithin('ab', 'a'), false);
  });

  it('uses the file name as a new id when it is free and valid, else a UUID', async () => {
    assert.equal(await newPhotoId('beach.png', async () => false), 'beach.png');
    assert.match(await newPhotoId('beach.png', async () => true), /^[0-9a-f-]{36}$/);
    assert.match(await newPhotoId('what?.png', async () => false), /^[0-9a-f-]{36}$/, 'a name that is not a valid id');
  });
});
