// Notes, photos and scores: accepted shapes, canonical JSON and hashes, and the refusals users see.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { contentHash } from '../hash.js';
import { assertRejects, LIMITS } from './content-fixtures.js';
import { canonicalizeContent as sut, decodeContent } from './validate-content.js';

const BLOB = 'sha256:' + 'ab'.repeat(32);
const photo = { blob: BLOB, name: 'IMG_0001.HEIC', type: 'image/heic', size: 1_234_567, takenAt: '2024-05-01T12:30:00+02:00' };
const score = { game: 'Tetris', score: 123456, achievedAt: '2009-10-02T18:00:00Z', player: 'Ada' };

describe('notes', () => {
  it('stores canonical JSON whatever the key order, so the hash does not depend on it', () => {
    const a = sut('notes', 'n1', { title: 'Groceries', body: '- milk\n- *eggs*' }, LIMITS);
    const b = sut('notes', 'n1', { body: '- milk\n- *eggs*', title: 'Groceries' }, LIMITS);
    assert.deepEqual(a, b);
    assert.equal(a.text, '{"body":"- milk\\n- *eggs*","title":"Groceries"}');
    assert.equal(a.hash, contentHash(a.text));
  });

  it('gives the note back as an object', () => {
    const { text } = sut('notes', 'n1', { title: 'T', body: 'B' }, LIMITS);
    assert.deepEqual(decodeContent('notes', text), { title: 'T', body: 'B' });
  });

  it('refuses unknown fields, naming them', () => {
    const e = assertRejects(() => sut('notes', 'n1', { title: 'T', body: 'B', pinned: true }, LIMITS), 'invalid_content', /unknown field "pinned"/);
    assert.equal(e.details?.field, 'pinned');
  });

  it('refuses missing fields and wrong types', () => {
    assertRejects(() => sut('notes', 'n1', { title: 'T' }, LIMITS), 'invalid_content', /missing field "body"/);
    assertRejects(() => sut('notes', 'n1', { title: 7, body: 'B' }, LIMITS), 'invalid_content', /"title" must be a string; got a number/);
    assertRejects(() => sut('notes', 'n1', 'just text', LIMITS), 'invalid_content', /must be an object with title, body; got a string/);
    assertRejects(() => sut('notes', 'n1', [{ title: 'T', body: 'B' }], LIMITS), 'invalid_content', /got an array/);
    assertRejects(() => sut('notes', 'n1', new Date(), LIMITS), 'invalid_content', /got an object/);
  });

  it('refuses a note larger than the limit and lone surrogates', () => {
    assertRejects(() => sut('notes', 'n1', { title: 'T', body: 'x'.repeat(100) }, { ...LIMITS, maxTextBytes: 50 }), 'invalid_content', /the limit is 50/);
    assertRejects(() => sut('notes', 'n1', { title: 'T\uD800', body: '' }, LIMITS), 'invalid_content', /"title" contains a lone UTF-16 surrogate/);
  });
});

describe('photos', () => {
  it('accepts photo metadata with and without takenAt', () => {
    const { text } = sut('photos', 'p1', photo, LIMITS);
    assert.deepEqual(decodeContent('photos', text), photo);
    const { takenAt: _, ...withoutDate } = photo;
    assert.deepEqual(decodeContent('photos', sut('photos', 'p1', withoutDate, LIMITS).text), withoutDate);
  });

  it('refuses path and control characters in the file name', () => {
    for (const name of ['../etc/passwd', 'a\\b.jpg', 'a/b.jpg']) {
      assertRejects(() => sut('photos', 'p1', { ...photo, name }, LIMITS), 'invalid_content', /"name" must be a plain file name/);
    }
    assertRejects(() => sut('photos', 'p1', { ...photo, name: 'a\nb.jpg' }, LIMITS), 'invalid_content', /control character U\+000A/);
    assertRejects(() => sut('photos', 'p1', { ...photo, name: '..' }, LIMITS), 'invalid_content', /cannot be ".."/);
    assertRejects(() => sut('photos', 'p1', { ...photo, name: '' }, LIMITS), 'invalid_content', /"name" must not be empty/);
    assertRejects(() => sut('photos', 'p1', { ...photo, name: 'x'.repeat(256) }, LIMITS), 'invalid_content', /256 characters; the limit is 255/);
  });

  it('refuses a bad blob name, type, size or date', () => {
    assertRejects(() => sut('photos', 'p1', { ...photo, blob: 'sha256:XYZ' }, LIMITS), 'invalid_content', /"blob" must be "sha256:"/);
    assertRejects(() => sut('photos', 'p1', { ...photo, type: 'image/tiff' }, LIMITS), 'invalid_content', /"type" is "image\/tiff"; expected one of/);
    assertRejects(() => sut('photos', 'p1', { ...photo, size: 1.5 }, LIMITS), 'invalid_content', /"size" must be an integer .*got 1.5/);
    assertRejects(() => sut('photos', 'p1', { ...photo, size: LIMITS.maxBlobBytes + 1 }, LIMITS), 'invalid_content', /"size"/);
    assertRejects(() => sut('photos', 'p1', { ...photo, size: '12' }, LIMITS), 'invalid_content', /"size" .*got a string/);
    assertRejects(() => sut('photos', 'p1', { ...photo, takenAt: 'yesterday' }, LIMITS), 'invalid_content', /"takenAt" is "yesterday"/);
    assertRejects(() => sut('photos', 'p1', { ...photo, takenAt: '2024-02-30T10:00:00Z' }, LIMITS), 'invalid_content', /"takenAt"/);
    assertRejects(() => sut('photos', 'p1', { ...photo, takenAt: null }, LIMITS), 'invalid_content', /"takenAt" must be a string; got null/);
  });
});

describe('scores', () => {
  it('accepts a score with and without player, independent of key order', () => {
    const reversed = Object.fromEntries(Object.entries(score).reverse());
    assert.deepEqual(sut('scores', 's1', score, LIMITS), sut('scores', 's1', reversed, LIMITS));
    const { player: _, ...anonymous } = score;
    assert.deepEqual(decodeContent('scores', sut('scores', 's1', anonymous, LIMITS).text), anonymous);
  });

  it('refuses NaN, Infinity and numeric strings as the score', () => {
    assertRejects(() => sut('scores', 's1', { ...score, score: NaN }, LIMITS), 'invalid_content', /"score" must be a finite number; got NaN/);
    assertRejects(() => sut('scores', 's1', { ...score, score: Infinity }, LIMITS), 'invalid_content', /got Infinity/);
    assertRejects(() => sut('scores', 's1', { ...score, score: '100' }, LIMITS), 'invalid_content', /got a string/);
  });

  it('refuses a bad date, an empty game and unknown fields', () => {
    assertRejects(() => sut('scores', 's1', { ...score, achievedAt: '2009-10-02' }, LIMITS), 'invalid_content', /"achievedAt" is "2009-10-02"/);
    assertRejects(() => sut('scores', 's1', { ...score, achievedAt: '2009-10-02T18:00:00' }, LIMITS), 'invalid_content', /with offset/);
    assertRejects(() => sut('scores', 's1', { ...score, game: '' }, LIMITS), 'invalid_content', /"game" must not be empty/);
    assertRejects(() => sut('scores', 's1', { ...score, level: 3 }, LIMITS), 'invalid_content', /unknown field "level"/);
    assertRejects(() => sut('scores', 's1', { ...score, player: 'p'.repeat(201) }, LIMITS), 'invalid_content', /"player" is 201 characters/);
  });
});

describe('decodeContent', () => {
  it('gives text kinds back as the stored string', () => {
    assert.equal(decodeContent('contacts', 'BEGIN:VCARD'), 'BEGIN:VCARD');
  });

  it('reports damaged stored JSON as internal', () => {
    assertRejects(() => decodeContent('notes', '{"title":'), 'internal', /not valid JSON/);
  });
});
