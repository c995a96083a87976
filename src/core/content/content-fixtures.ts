// Realistic vCard and iCalendar texts shared by the content tests.
import assert from 'node:assert/strict';
import { KeepsakeError, type ErrorCode } from '../errors.js';

const crlf = (lines: string[]) => lines.join('\r\n') + '\r\n';

/** Limits used by the content tests. */
export const LIMITS = { maxTextBytes: 64 * 1024, maxBlobBytes: 10 * 1024 * 1024 };

/** A vCard 3.0 as Apple Contacts writes it (grouped X-ABLABEL, folded PHOTO). */
export function vcard3(uid = 'A1B2C3D4-0000-4000-8000-000000000001'): string {
  return crlf([
    'BEGIN:VCARD',
    'VERSION:3.0',
    'PRODID:-//Apple Inc.//iPhone OS 17.0//EN',
    'N:Lovelace;Ada;;;',
    'FN:Ada Lovelace',
    'ORG:Analytical Engines Ltd.;',
    'EMAIL;type=INTERNET;type=HOME;type=pref:ada@example.org',
    'TEL;type=CELL;type=VOICE;type=pref:+44 20 7946 0000',
    'item1.ADR;type=HOME;type=pref:;;12 St James\'s Square;London;;SW1Y 4JH;United Kingdom',
    'item1.X-ABLABEL:_$!<Home>!$_',
    'BDAY;value=date:1815-12-10',
    'NOTE:First programmer\\, by most accounts.\\nLine two.',
    'PHOTO;ENCODING=b;TYPE=JPEG:/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAgGBgcGBQgHBwcJCQgKDB',
    ' QNDAsLDBkSEw8UHRofHh0aHBwgJC4nICIsIxwcKDcpLDAxNDQ0Hyc5PTgyPC4zNDL/2wBDAQkJCQ',
    `UID:${uid}`,
    'END:VCARD',
  ]);
}

/** A vCard 4.0 (RFC 6350) with a URN UID and a tel: URI. */
export function vcard4(uid = 'urn:uuid:4fbe8971-0bc3-424c-9c26-36c3e1eff6b1'): string {
  return crlf([
    'BEGIN:VCARD',
    'VERSION:4.0',
    'FN:Grace Hopper',
    'N:Hopper;Grace;;;',
    'BDAY:19061209',
    'TEL;VALUE=uri;TYPE="voice,home":tel:+1-555-555-5555;ext=5555',
    'EMAIL;TYPE=work:grace@example.org',
    `UID:${uid}`,
    'END:VCARD',
  ]);
}

const BERLIN = [
  'BEGIN:VTIMEZONE',
  'TZID:Europe/Berlin',
  'BEGIN:DAYLIGHT',
  'TZOFFSETFROM:+0100',
  'RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU',
  'DTSTART:19810329T020000',
  'TZNAME:CEST',
  'TZOFFSETTO:+0200',
  'END:DAYLIGHT',
  'BEGIN:STANDARD',
  'TZOFFSETFROM:+0200',
  'RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU',
  'DTSTART:19961027T030000',
  'TZNAME:CET',
  'TZOFFSETTO:+0100',
  'END:STANDARD',
  'END:VTIMEZONE',
];

const NEW_YORK = [
  'BEGIN:VTIMEZONE',
  'TZID:America/New_York',
  'BEGIN:STANDARD',
  'DTSTART:19701101T020000',
  'RRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU',
  'TZOFFSETFROM:-0400',
  'TZOFFSETTO:-0500',
  'END:STANDARD',
  'END:VTIMEZONE',
];

const STANDUP_MASTER = [
  'BEGIN:VEVENT',
  'UID:standup-1',
  'DTSTAMP:20240101T000000Z',
  'DTSTART;TZID=Europe/Berlin:20240105T090000',
  'DTEND;TZID=Europe/Berlin:20240105T091500',
  'RRULE:FREQ=WEEKLY;BYDAY=FR;UNTIL=20240301T000000Z',
  'EXDATE;TZID=Europe/Berlin:20240112T090000',
  'SUMMARY:Standup\\, weekly',
  'BEGIN:VALARM',
  'ACTION:DISPLAY',
  'TRIGGER:-PT10M',
  'DESCRIPTION:Standup',
  'END:VALARM',
  'END:VEVENT',
];

const STANDUP_EXCEPTION = [
  'BEGIN:VEVENT',
  'UID:standup-1',
  'RECURRENCE-ID;TZID=Europe/Berlin:20240126T090000',
  'DTSTAMP:20240101T000000Z',
  'DTSTART;TZID=Europe/Berlin:20240126T110000',
  'DURATION:PT15M',
  'SUMMARY:Standup (moved)',
  'END:VEVENT',
];

const HOLIDAY = [
  'BEGIN:VEVENT',
  'UID:holiday-1',
  'DTSTAMP:20240101T000000Z',
  'DTSTART;VALUE=DATE:20240210',
  'DTEND;VALUE=DATE:20240213',
  'SUMMARY:Ski trip',
  'END:VEVENT',
];

const CALL = [
  'BEGIN:VEVENT',
  'UID:call-1',
  'DTSTAMP:20240101T000000Z',
  'DTSTART;TZID=America/New_York:20240220T100000',
  'DTEND;TZID=America/New_York:20240220T103000',
  'SUMMARY:Call with NY',
  'END:VEVENT',
];

const HEAD = ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//Example Corp//Calendar 1.0//EN', 'CALSCALE:GREGORIAN'];

/** A weekly recurring event with one moved occurrence (same UID, RECURRENCE-ID) and its VTIMEZONE. */
export function recurringEvent(): string {
  return crlf([...HEAD, ...BERLIN, ...STANDUP_MASTER, ...STANDUP_EXCEPTION, 'END:VCALENDAR']);
}

/** A three-day all-day event (DATE values, DTEND exclusive). */
export function allDayEvent(): string {
  return crlf([...HEAD, ...HOLIDAY, 'END:VCALENDAR']);
}

/** An iCalendar object built from `body` lines inside VCALENDAR with VERSION and PRODID. */
export function calendarWith(...body: string[]): string {
  return crlf([...HEAD, ...body, 'END:VCALENDAR']);
}

/** A task with no DTSTART, only a DUE date. */
export function taskWithoutStart(uid = 'task-1'): string {
  return calendarWith('BEGIN:VTODO', `UID:${uid}`, 'DTSTAMP:20240101T000000Z', 'DUE;VALUE=DATE:20240415', 'SUMMARY:File taxes', 'STATUS:NEEDS-ACTION', 'END:VTODO');
}

/**
 * An .ics export with three events (the recurring standup with its exception, the all-day
 * holiday, a call in New York time), two VTIMEZONEs and METHOD:PUBLISH, as calendar apps export.
 */
export function threeEventExport(): string {
  return crlf([
    'BEGIN:VCALENDAR',
    'VERSION:2.0',
    'PRODID:-//Example Corp//Calendar 1.0//EN',
    'METHOD:PUBLISH',
    'X-WR-CALNAME:Work',
    ...BERLIN,
    ...NEW_YORK,
    ...STANDUP_MASTER,
    ...HOLIDAY,
    ...CALL,
    ...STANDUP_EXCEPTION,
    'END:VCALENDAR',
  ]);
}

/** Asserts `fn` throws a KeepsakeError with `code` whose message matches `message`. */
export function assertRejects(fn: () => unknown, code: ErrorCode, message: RegExp): KeepsakeError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof KeepsakeError, `expected a KeepsakeError ${code}, got ${caught === undefined ? 'no error' : String(caught)}`);
  assert.equal(caught.code, code, `code of: ${caught.message}`);
  assert.match(caught.message, message);
  return caught;
}
