// Contacts: which vCards canonicalizeContent accepts, and what it says about the ones it refuses.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { contentHash } from '../hash.js';
import { assertRejects, LIMITS, vcard3, vcard4 } from './content-fixtures.js';
import { canonicalizeContent as sut } from './validate-content.js';

const ID3 = 'A1B2C3D4-0000-4000-8000-000000000001';
const ID4 = 'urn:uuid:4fbe8971-0bc3-424c-9c26-36c3e1eff6b1';

describe('contacts', () => {
  it('accepts a vCard 3.0 and stores the client bytes unchanged', () => {
    const text = vcard3();
    assert.deepEqual(sut('contacts', ID3, text, LIMITS), { text, hash: contentHash(text) });
  });

  it('accepts a vCard 4.0 with a URN UID', () => {
    const text = vcard4();
    assert.equal(sut('contacts', ID4, text, LIMITS).text, text);
  });

  it('accepts LF line endings and lower-case property names', () => {
    const text = vcard4().replace(/\r\n/g, '\n').replace('FN:', 'fn:');
    assert.equal(sut('contacts', ID4, text, LIMITS).text, text);
  });

  it('refuses a vCard without FN', () => {
    assertRejects(() => sut('contacts', ID4, vcard4().replace('FN:Grace Hopper\r\n', ''), LIMITS), 'invalid_vcard', /no FN/);
  });

  it('refuses a UID that is not the item id and shows both', () => {
    const e = assertRejects(() => sut('contacts', 'other-id', vcard4(), LIMITS), 'uid_mismatch', /"urn:uuid:4fbe8971.*"other-id"/);
    assert.deepEqual(e.details, { uid: ID4, id: 'other-id' });
  });

  it('refuses a vCard without UID, naming the UID it needs', () => {
    assertRejects(() => sut('contacts', ID4, vcard4().replace(/UID:.*\r\n/, ''), LIMITS), 'invalid_vcard', /no UID.*UID:urn:uuid:4fbe/);
  });

  it('refuses two vCards in one contact', () => {
    assertRejects(() => sut('contacts', ID4, vcard4() + vcard4(), LIMITS), 'invalid_vcard', /2 components.*exactly one vCard/);
  });

  it('refuses versions other than 3.0 and 4.0', () => {
    assertRejects(() => sut('contacts', ID3, vcard3().replace('VERSION:3.0', 'VERSION:2.1'), LIMITS), 'invalid_vcard', /VERSION is "2.1"/);
    assertRejects(() => sut('contacts', ID3, vcard3().replace('VERSION:3.0\r\n', ''), LIMITS), 'invalid_vcard', /exactly one VERSION/);
  });

  it('refuses a 4.0 vCard whose VERSION is not the first line', () => {
    const text = vcard4().replace('VERSION:4.0\r\nFN:Grace Hopper', 'FN:Grace Hopper\r\nVERSION:4.0');
    assertRejects(() => sut('contacts', ID4, text, LIMITS), 'invalid_vcard', /must be the first line/);
  });

  it('refuses garbage, empty text and other components', () => {
    assertRejects(() => sut('contacts', ID4, 'hello world', LIMITS), 'invalid_vcard', /line 1 is outside any BEGIN\/END/);
    assertRejects(() => sut('contacts', ID4, '', LIMITS), 'invalid_vcard', /empty/);
    assertRejects(() => sut('contacts', ID4, 'BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n', LIMITS), 'invalid_vcard', /found BEGIN:VCALENDAR/);
    assertRejects(() => sut('contacts', ID4, 'BEGIN:VCARD\r\nVERSION:4.0\r\nFN;=x:y\r\nEND:VCARD', LIMITS), 'invalid_vcard', /could not be parsed/);
  });

  it('refuses truncated text and mismatched END lines that ical.js would accept', () => {
    const text = vcard4();
    assertRejects(() => sut('contacts', ID4, text.slice(0, text.indexOf('END:VCARD')), LIMITS), 'invalid_vcard', /never closed/);
    assertRejects(() => sut('contacts', ID4, text.replace('END:VCARD', 'END:VCALENDAR'), LIMITS), 'invalid_vcard', /END:VCALENDAR does not close BEGIN:VCARD/);
    assertRejects(() => sut('contacts', ID4, text + 'END:VCARD\r\n', LIMITS), 'invalid_vcard', /no matching BEGIN/);
  });

  it('refuses control characters and nested components', () => {
    assertRejects(() => sut('contacts', ID4, vcard4().replace('Grace', 'Gr\u0000ace'), LIMITS), 'invalid_vcard', /line 3 contains control character U\+0000/);
    const nested = vcard4().replace('END:VCARD', 'BEGIN:VCARD\r\nFN:x\r\nEND:VCARD\r\nEND:VCARD');
    assertRejects(() => sut('contacts', ID4, nested, LIMITS), 'invalid_vcard', /cannot contain BEGIN:VCARD/);
  });

  it('refuses content that is not a string with invalid_vcard', () => {
    assertRejects(() => sut('contacts', ID4, { fn: 'x' }, LIMITS), 'invalid_vcard', /must be a vCard string; got an object/);
    assertRejects(() => sut('contacts', ID4, null, LIMITS), 'invalid_vcard', /got null/);
  });

  it('refuses a vCard over the size limit, in UTF-8 bytes', () => {
    const text = vcard4().replace('Grace Hopper', 'é'.repeat(600));
    assert.ok(text.length < 1000);
    assertRejects(() => sut('contacts', ID4, text, { ...LIMITS, maxTextBytes: 1000 }), 'invalid_vcard', /bytes of UTF-8; the limit is 1000/);
  });
});
