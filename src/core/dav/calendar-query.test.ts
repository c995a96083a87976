// Unit tests for CalDAV filters and expansion: recurrence sets with exceptions, all-day events, tasks.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { calendarMatches, type CompFilter, expandCalendar, parseUtcDateTime } from './calendar-query.js';

const WEEKLY = [
  'BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//t//t//EN',
  'BEGIN:VEVENT', 'UID:w', 'DTSTAMP:20260101T000000Z', 'DTSTART:20260105T090000Z', 'DTEND:20260105T100000Z', 'RRULE:FREQ=WEEKLY;COUNT=4', 'EXDATE:20260119T090000Z', 'SUMMARY:Weekly', 'END:VEVENT',
  'BEGIN:VEVENT', 'UID:w', 'DTSTAMP:20260101T000000Z', 'RECURRENCE-ID:20260112T090000Z', 'DTSTART:20260301T150000Z', 'DTEND:20260301T160000Z', 'SUMMARY:Moved far', 'END:VEVENT',
  'END:VCALENDAR', '',
].join('\r\n');

const range = (a: string, b: string) => ({ start: parseUtcDateTime(a, 's'), end: parseUtcDateTime(b, 'e') });
const filter = (a: string, b: string): CompFilter => ({
  name: 'VCALENDAR', isNotDefined: false, timeRange: null, props: [],
  comps: [{ name: 'VEVENT', isNotDefined: false, timeRange: range(a, b), props: [], comps: [] }],
});

describe('calendar-query', () => {
  it('matches a recurrence set by any instance, honouring EXDATE and moved exceptions', () => {
    const sut = (a: string, b: string) => calendarMatches(WEEKLY, filter(a, b));
    assert.equal(sut('20260105T000000Z', '20260106T000000Z'), true, 'first instance');
    assert.equal(sut('20260112T000000Z', '20260113T000000Z'), false, 'the 12th moved away');
    assert.equal(sut('20260119T000000Z', '20260120T000000Z'), false, 'the 19th is excluded');
    assert.equal(sut('20260126T000000Z', '20260127T000000Z'), true, 'last instance');
    assert.equal(sut('20260301T000000Z', '20260302T000000Z'), true, 'the moved instance, past the end of the rule');
    assert.equal(sut('20260202T000000Z', '20260203T000000Z'), false, 'after COUNT');
  });

  it('expands into the instances in range, each with RECURRENCE-ID and no RRULE', () => {
    const sut = expandCalendar(WEEKLY, range('20260101T000000Z', '20260401T000000Z'));
    const starts = [...sut.matchAll(/^DTSTART:(\S+)\r?$/gm)].map((m) => m[1]).sort();
    assert.deepEqual(starts, ['20260105T090000Z', '20260126T090000Z', '20260301T150000Z']);
    assert.equal([...sut.matchAll(/^RECURRENCE-ID:/gm)].length, 3);
    assert.doesNotMatch(sut, /RRULE|EXDATE/);
    assert.match(sut, /SUMMARY:Moved far/);
  });

  it('treats an all-day event as lasting its day, and a zero-length range edge correctly', () => {
    const day = WEEKLY.replace('DTSTART:20260105T090000Z\r\nDTEND:20260105T100000Z\r\nRRULE:FREQ=WEEKLY;COUNT=4\r\nEXDATE:20260119T090000Z', 'DTSTART;VALUE=DATE:20260105').split('BEGIN:VEVENT\r\nUID:w\r\nDTSTAMP:20260101T000000Z\r\nRECURRENCE-ID')[0] + 'END:VCALENDAR\r\n';
    assert.equal(calendarMatches(day, filter('20260105T230000Z', '20260106T000000Z')), true);
    assert.equal(calendarMatches(day, filter('20260106T000000Z', '20260107T000000Z')), false);
  });

  it('refuses a time that is not UTC date-time', () => {
    assert.throws(() => parseUtcDateTime('2026-01-05', 'start'), /invalid|UTC/);
  });
});
