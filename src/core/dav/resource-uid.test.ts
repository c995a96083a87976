// uidOf: the UID a PUT's item is stored under, with and without the resource name's hint.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { uidOf } from './resource-uid.js';

const card = (uidLines: string) => `BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Ada\r\n${uidLines}END:VCARD\r\n`;
const event = (eventUid: string, alarmUid: string) =>
  `BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x//y//EN\r\nBEGIN:VEVENT\r\n${eventUid}DTSTAMP:20260101T000000Z\r\nDTSTART:20260105T090000Z\r\n` +
  `BEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:x\r\nTRIGGER:-PT5M\r\n${alarmUid}END:VALARM\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n`;

describe('uidOf', () => {
  it('reads the UID of the vCard or of the first event', () => {
    assert.equal(uidOf(card('UID:ada\r\n')), 'ada');
    assert.equal(uidOf(card('item1.UID:ada\r\n')), 'ada');
    assert.equal(uidOf(event('UID:ev-1\r\n', 'UID:alarm-1\r\n')), 'ev-1');
    assert.equal(uidOf(card('')), null);
    assert.equal(uidOf('not a vcard'), null);
  });

  it('gives the same item with the hint as without it, whatever the UID lines say', () => {
    const cases: Array<[string, string]> = [
      [card('UID:ada\r\n'), 'ada'],
      [card('UID:ada\r\n'), 'bob'],
      [card('uid:ada\r\n'), 'ada'],
      [card('UID;VALUE=TEXT:ada\r\n'), 'ada'],
      [card('UID:a\r\n d\r\n a\r\n'), 'ada'], // folded
      [card('UID:a\\,da\r\n'), 'a,da'], // escaped
      [card('UID:ada\r\nUID:bob\r\n'), 'ada'],
      [card(''), 'ada'],
      [event('UID:ev-1\r\n', 'UID:alarm-1\r\n'), 'ev-1'],
      [event('UID:ev-1\r\n', 'UID:alarm-1\r\n'), 'alarm-1'],
      [event('', 'UID:ev-1\r\n'), 'ev-1'], // only the alarm names it: stored as the name says either way
    ];
    for (const [text, hint] of cases) {
      const full = uidOf(text);
      // A writer stores under the UID when there is one that differs from the name, else under the name.
      const target = (uid: string | null) => (uid !== null && uid !== hint ? uid : hint);
      assert.equal(target(uidOf(text, hint)), target(full), JSON.stringify({ text, hint }));
    }
  });
});
