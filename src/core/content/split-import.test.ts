// Import/export files: splitting .vcf/.ics into items that validate, and joining them back.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertRejects, calendarWith, LIMITS, taskWithoutStart, threeEventExport, vcard3, vcard4 } from './content-fixtures.js';
import { joinICalendar, joinVCards, splitICalendar, splitVCards } from './split-import.js';
import { canonicalizeContent } from './validate-content.js';

describe('splitVCards / joinVCards', () => {
  it('cuts a .vcf into its vCards, byte for byte, even when 3.0 and 4.0 are mixed', () => {
    const file = vcard3() + vcard4() + vcard3('second-3.0');
    const parts = splitVCards(file);
    assert.deepEqual(parts, [vcard3(), vcard4(), vcard3('second-3.0')]);
    assert.equal(canonicalizeContent('contacts', 'second-3.0', parts[2], LIMITS).text, parts[2]);
    assert.equal(joinVCards(parts), file);
  });

  it('handles LF files, blank lines between cards and a missing final newline', () => {
    const file = vcard4().replace(/\r\n/g, '\n') + '\n\n' + vcard3().trimEnd();
    const parts = splitVCards(file);
    assert.equal(parts.length, 2);
    assert.equal(parts[1], vcard3().trimEnd() + '\r\n');
    canonicalizeContent('contacts', 'urn:uuid:4fbe8971-0bc3-424c-9c26-36c3e1eff6b1', parts[0], LIMITS);
  });

  it('gives an empty list for an empty file and refuses a malformed one', () => {
    assert.deepEqual(splitVCards(''), []);
    assertRejects(() => splitVCards(vcard4() + 'BEGIN:VCARD\r\nFN:cut off'), 'invalid_vcard', /never closed/);
    assertRejects(() => splitVCards(calendarWith()), 'invalid_vcard', /only BEGIN:VCARD/);
  });
});

describe('splitICalendar / joinICalendar', () => {
  it('splits an export into one VCALENDAR per UID that each validate', () => {
    const parts = splitICalendar(threeEventExport());
    assert.deepEqual(
      parts.map((p) => [p.uid, p.kind]),
      [
        ['standup-1', 'calendar'],
        ['holiday-1', 'calendar'],
        ['call-1', 'calendar'],
      ],
    );
    for (const part of parts) assert.equal(canonicalizeContent(part.kind, part.uid, part.text, LIMITS).text, part.text);
  });

  it('keeps the master with its exception and only the VTIMEZONEs each part uses', () => {
    const [standup, holiday, call] = splitICalendar(threeEventExport()).map((p) => p.text);
    assert.equal(standup.match(/BEGIN:VEVENT/g)?.length, 2);
    assert.match(standup, /RECURRENCE-ID;TZID=Europe\/Berlin:20240126T090000/);
    assert.match(standup, /BEGIN:VALARM/);
    assert.match(standup, /TZID:Europe\/Berlin/);
    assert.doesNotMatch(standup, /TZID:America\/New_York/);
    assert.doesNotMatch(holiday, /BEGIN:VTIMEZONE/);
    assert.match(call, /TZID:America\/New_York/);
    assert.doesNotMatch(call, /TZID:Europe\/Berlin/);
  });

  it('keeps the calendar properties but drops METHOD (RFC 4791 §4.1)', () => {
    for (const { text } of splitICalendar(threeEventExport())) {
      assert.match(text, /^BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-\/\/Example Corp\/\/Calendar 1.0\/\/EN\r\n/);
      assert.match(text, /X-WR-CALNAME:Work/);
      assert.doesNotMatch(text, /METHOD/);
    }
  });

  it('round-trips: joining the parts and splitting again gives the same parts', () => {
    const parts = splitICalendar(threeEventExport());
    const joined = joinICalendar(parts.map((p) => p.text));
    assert.equal(joined.match(/BEGIN:VTIMEZONE/g)?.length, 2, 'each VTIMEZONE once');
    assert.equal(joined.match(/BEGIN:VEVENT/g)?.length, 4);
    assert.deepEqual(splitICalendar(joined), parts);
  });

  it('sorts events and tasks into their kinds', () => {
    const file = threeEventExport().replace('END:VCALENDAR', taskWithoutStart().split('\r\n').slice(4, -2).join('\r\n') + '\r\nEND:VCALENDAR');
    const parts = splitICalendar(file);
    assert.deepEqual(parts.at(-1)?.kind, 'tasks');
    const task = parts.at(-1)!;
    canonicalizeContent('tasks', task.uid, task.text, LIMITS);
  });

  it('adds VERSION and PRODID when joining texts without them, and joins nothing to an empty calendar', () => {
    assert.equal(joinICalendar([]), 'BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Keepsake//Keepsake//EN\r\nEND:VCALENDAR\r\n');
  });

  it('refuses components it cannot keep instead of dropping them', () => {
    const journal = calendarWith('BEGIN:VJOURNAL', 'UID:j1', 'DTSTART:20240101T100000Z', 'END:VJOURNAL');
    assertRejects(() => splitICalendar(journal), 'invalid_icalendar', /cannot import VJOURNAL/);
    assertRejects(() => splitICalendar(calendarWith('BEGIN:VEVENT', 'DTSTART:20240101T100000Z', 'END:VEVENT')), 'invalid_icalendar', /has no UID/);
    const both = calendarWith('BEGIN:VEVENT', 'UID:x', 'END:VEVENT', 'BEGIN:VTODO', 'UID:x', 'END:VTODO');
    assertRejects(() => splitICalendar(both), 'invalid_icalendar', /both a VEVENT and a VTODO/);
  });
});
