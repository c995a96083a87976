// Events and tasks: which iCalendar objects canonicalizeContent accepts, and what it says about the others.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { allDayEvent, assertRejects, calendarWith, LIMITS, recurringEvent, taskWithoutStart } from './content-fixtures.js';
import { canonicalizeContent as sut } from './validate-content.js';

const event = (...lines: string[]) => calendarWith('BEGIN:VEVENT', ...lines, 'END:VEVENT');

describe('calendar', () => {
  it('accepts a recurring event with an exception sharing its UID, stored unchanged', () => {
    const text = recurringEvent();
    assert.equal(sut('calendar', 'standup-1', text, LIMITS).text, text);
  });

  it('accepts an all-day event', () => {
    assert.equal(sut('calendar', 'holiday-1', allDayEvent(), LIMITS).text, allDayEvent());
  });

  it('accepts an exception without its master (an invitation to one occurrence)', () => {
    const text = event('UID:e1', 'RECURRENCE-ID:20240105T090000Z', 'DTSTART:20240105T100000Z');
    assert.equal(sut('calendar', 'e1', text, LIMITS).text, text);
  });

  it('refuses two different UIDs, naming both', () => {
    const text = calendarWith('BEGIN:VEVENT', 'UID:a', 'DTSTART:20240101T100000Z', 'END:VEVENT', 'BEGIN:VEVENT', 'UID:b', 'DTSTART:20240101T100000Z', 'END:VEVENT');
    assertRejects(() => sut('calendar', 'a', text, LIMITS), 'invalid_icalendar', /different UIDs \("a", "b"\)/);
  });

  it('refuses a UID that differs from the item id', () => {
    assertRejects(() => sut('calendar', 'other', recurringEvent(), LIMITS), 'uid_mismatch', /"standup-1".*"other"/);
  });

  it('refuses a VTODO or VJOURNAL in a calendar item', () => {
    const todo = recurringEvent().replace('END:VCALENDAR', 'BEGIN:VTODO\r\nUID:standup-1\r\nEND:VTODO\r\nEND:VCALENDAR');
    assertRejects(() => sut('calendar', 'standup-1', todo, LIMITS), 'invalid_icalendar', /only VEVENT and VTIMEZONE.*found VTODO.*tasks collection/);
    const journal = recurringEvent().replace('END:VCALENDAR', 'BEGIN:VJOURNAL\r\nUID:standup-1\r\nEND:VJOURNAL\r\nEND:VCALENDAR');
    assertRejects(() => sut('calendar', 'standup-1', journal, LIMITS), 'invalid_icalendar', /found VJOURNAL/);
  });

  it('refuses two masters and duplicate RECURRENCE-IDs', () => {
    const twoMasters = calendarWith('BEGIN:VEVENT', 'UID:e', 'DTSTART:20240101T100000Z', 'END:VEVENT', 'BEGIN:VEVENT', 'UID:e', 'DTSTART:20240102T100000Z', 'END:VEVENT');
    assertRejects(() => sut('calendar', 'e', twoMasters, LIMITS), 'invalid_icalendar', /2 VEVENTs without RECURRENCE-ID/);
    const exception = ['BEGIN:VEVENT', 'UID:e', 'RECURRENCE-ID:20240101T100000Z', 'DTSTART:20240101T110000Z', 'END:VEVENT'];
    assertRejects(() => sut('calendar', 'e', calendarWith(...exception, ...exception), LIMITS), 'invalid_icalendar', /two VEVENTs with RECURRENCE-ID/);
  });

  it('refuses a VEVENT without DTSTART', () => {
    assertRejects(() => sut('calendar', 'e', event('UID:e', 'SUMMARY:x'), LIMITS), 'invalid_icalendar', /VEVENT "e" has no DTSTART/);
  });

  it('refuses bad dates that ical.js parses silently', () => {
    assertRejects(() => sut('calendar', 'e', event('UID:e', 'DTSTART:garbage'), LIMITS), 'invalid_icalendar', /DTSTART is not a valid DATE-TIME/);
    assertRejects(() => sut('calendar', 'e', event('UID:e', 'DTSTART:20240101'), LIMITS), 'invalid_icalendar', /VALUE=DATE/);
    assertRejects(() => sut('calendar', 'e', event('UID:e', 'DTSTART;VALUE=DATE:20240230'), LIMITS), 'invalid_icalendar', /not a valid DATE/);
    assertRejects(() => sut('calendar', 'e', event('UID:e', 'DTSTART:20240101T250000Z'), LIMITS), 'invalid_icalendar', /DATE-TIME/);
  });

  it('refuses an RRULE without FREQ and a malformed DURATION', () => {
    assertRejects(() => sut('calendar', 'e', event('UID:e', 'DTSTART:20240101T100000Z', 'RRULE:COUNT=3'), LIMITS), 'invalid_icalendar', /RRULE has no valid FREQ/);
    assertRejects(() => sut('calendar', 'e', event('UID:e', 'DTSTART:20240101T100000Z', 'RRULE:FREQ=SOMETIMES'), LIMITS), 'invalid_icalendar', /invalid frequency/);
    assertRejects(() => sut('calendar', 'e', event('UID:e', 'DTSTART:20240101T100000Z', 'DURATION:soon'), LIMITS), 'invalid_icalendar', /DURATION/);
  });

  it('refuses DTEND with DURATION, and DTEND of another value type than DTSTART', () => {
    assertRejects(
      () => sut('calendar', 'e', event('UID:e', 'DTSTART:20240101T100000Z', 'DTEND:20240101T110000Z', 'DURATION:PT1H'), LIMITS),
      'invalid_icalendar',
      /both DTEND and DURATION/,
    );
    assertRejects(
      () => sut('calendar', 'e', event('UID:e', 'DTSTART;VALUE=DATE:20240101', 'DTEND:20240101T110000Z'), LIMITS),
      'invalid_icalendar',
      /DTEND is a DATE-TIME but DTSTART is a DATE/,
    );
  });

  it('refuses METHOD, a missing VERSION and two VCALENDARs', () => {
    assertRejects(() => sut('calendar', 'holiday-1', allDayEvent().replace('VERSION:2.0', 'VERSION:2.0\r\nMETHOD:REQUEST'), LIMITS), 'invalid_icalendar', /METHOD:REQUEST.*RFC 4791/);
    assertRejects(() => sut('calendar', 'holiday-1', allDayEvent().replace('VERSION:2.0\r\n', ''), LIMITS), 'invalid_icalendar', /VERSION:2.0 \(found none\)/);
    assertRejects(() => sut('calendar', 'holiday-1', allDayEvent() + allDayEvent(), LIMITS), 'invalid_icalendar', /2 top-level components/);
  });

  it('refuses a VEVENT nested in a VEVENT and content that is not a string', () => {
    const nested = event('UID:e', 'DTSTART:20240101T100000Z', 'BEGIN:VEVENT', 'UID:e', 'END:VEVENT');
    assertRejects(() => sut('calendar', 'e', nested, LIMITS), 'invalid_icalendar', /VEVENT is nested inside VEVENT/);
    assertRejects(() => sut('calendar', 'e', ['BEGIN:VCALENDAR'], LIMITS), 'invalid_icalendar', /must be an iCalendar string; got an array/);
  });
});

describe('tasks', () => {
  it('accepts a VTODO without DTSTART', () => {
    assert.equal(sut('tasks', 'task-1', taskWithoutStart(), LIMITS).text, taskWithoutStart());
  });

  it('refuses a VEVENT in a tasks item', () => {
    assertRejects(() => sut('tasks', 'holiday-1', allDayEvent(), LIMITS), 'invalid_icalendar', /only VTODO and VTIMEZONE.*found VEVENT/);
  });

  it('refuses a VTODO with DURATION but no DTSTART', () => {
    const text = calendarWith('BEGIN:VTODO', 'UID:t', 'DURATION:PT1H', 'END:VTODO');
    assertRejects(() => sut('tasks', 't', text, LIMITS), 'invalid_icalendar', /DURATION but no DTSTART/);
  });

  it('refuses a calendar with no VTODO', () => {
    assertRejects(() => sut('tasks', 't', calendarWith(), LIMITS), 'invalid_icalendar', /contains no VTODO/);
  });
});
