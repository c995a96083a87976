// Validation of an event or task: one VCALENDAR, one UID (the item id), a master and its exceptions.
import { fail } from '../errors.js';
import { checkIcalValues } from './icalendar-values.js';
import { firstProperty, firstValueText, properties, subcomponents, type JcalComponent } from './jcal.js';
import { parseJcal } from './parse-ical-text.js';

/** Components that may only appear directly inside VCALENDAR (RFC 5545 §3.6). */
const TOP_LEVEL_ONLY = new Set(['vcalendar', 'vevent', 'vtodo', 'vjournal', 'vfreebusy', 'vtimezone']);

/**
 * Checks that `text` is one iCalendar object (RFC 5545) fit for a CalDAV calendar object
 * resource (RFC 4791 §4.1): VERSION:2.0, no METHOD, only VEVENTs (kind `calendar`) or only VTODOs
 * (kind `tasks`) plus VTIMEZONEs, all sharing one UID equal to `id`, at most one without
 * RECURRENCE-ID (the master) and no two with the same RECURRENCE-ID. Every VEVENT has a DTSTART;
 * DTEND/DUE and DURATION are exclusive; dates, durations and RRULEs must be well formed.
 * PRODID is not required: many generators omit it and it carries nothing Keepsake needs.
 * The text itself is not changed; this only throws.
 *
 * @throws KeepsakeError `invalid_icalendar` naming what is wrong, or `uid_mismatch` with both UIDs.
 */
export function validateICalendar(kind: 'calendar' | 'tasks', id: string, text: string): void {
  const what = kind === 'calendar' ? 'event iCalendar' : 'task iCalendar';
  const main = kind === 'calendar' ? 'vevent' : 'vtodo';
  const MAIN = main.toUpperCase();
  const { components } = parseJcal(text, 'invalid_icalendar', what);
  if (components.length === 0) fail('invalid_icalendar', `${what} is empty: expected BEGIN:VCALENDAR ... END:VCALENDAR`);
  if (components.length > 1) {
    fail('invalid_icalendar', `${what} holds ${components.length} top-level components; one item is exactly one VCALENDAR`, {
      count: components.length,
    });
  }
  const cal = components[0];
  if (cal[0] !== 'vcalendar') fail('invalid_icalendar', `expected BEGIN:VCALENDAR, found BEGIN:${cal[0].toUpperCase()}`);

  // RFC 5545 §3.7.4: VERSION is required; "2.0" is the only version this specification defines.
  const versions = properties(cal, 'version');
  if (versions.length !== 1 || firstValueText(cal, 'version') !== '2.0') {
    fail('invalid_icalendar', `VCALENDAR needs exactly one VERSION:2.0 (found ${versions.length === 0 ? 'none' : `"${firstValueText(cal, 'version')}"`})`, {
      field: 'VERSION',
    });
  }
  // RFC 4791 §4.1: "Calendar object resources ... MUST NOT specify the iCalendar METHOD property."
  if (firstProperty(cal, 'method') !== null) {
    fail('invalid_icalendar', `VCALENDAR has METHOD:${firstValueText(cal, 'method')}; stored calendar objects must not (RFC 4791 §4.1)`, {
      field: 'METHOD',
    });
  }
  // RFC 4791 §4.1: one type of calendar component per resource; VTIMEZONE is the only exception.
  for (const sub of subcomponents(cal)) {
    const name = sub[0];
    if (name !== main && name !== 'vtimezone') {
      const hint = name === 'vevent' ? ' (events belong in a calendar collection)' : name === 'vtodo' ? ' (tasks belong in a tasks collection)' : '';
      fail('invalid_icalendar', `a ${kind} item holds only ${MAIN} and VTIMEZONE components, found ${name.toUpperCase()}${hint}`, {
        component: name.toUpperCase(),
      });
    }
    checkNesting(sub);
  }
  for (const tz of subcomponents(cal, 'vtimezone')) {
    // RFC 5545 §3.6.5: "tzid" is REQUIRED in VTIMEZONE.
    if (properties(tz, 'tzid').length !== 1) fail('invalid_icalendar', 'a VTIMEZONE needs exactly one TZID (RFC 5545 §3.6.5)', { component: 'VTIMEZONE' });
  }

  const items = subcomponents(cal, main);
  if (items.length === 0) fail('invalid_icalendar', `${what} contains no ${MAIN}`);
  const uid = checkOneUid(items, MAIN, id);
  checkRecurrenceSet(items, MAIN, uid);
  for (const item of items) checkTiming(item, MAIN, uid);
  checkIcalValues(cal, 'VCALENDAR');
}

/** RFC 5545 §3.6.1/§3.6.2: VALARM (and extension components) nest in VEVENT/VTODO; calendar components do not. */
function checkNesting(top: JcalComponent): void {
  const pending = [...subcomponents(top)];
  for (let c = pending.pop(); c !== undefined; c = pending.pop()) {
    if (TOP_LEVEL_ONLY.has(c[0])) {
      fail('invalid_icalendar', `${c[0].toUpperCase()} is nested inside ${top[0].toUpperCase()}; it may only appear directly in VCALENDAR`, {
        component: c[0].toUpperCase(),
      });
    }
    pending.push(...subcomponents(c));
  }
}

/** RFC 5545 §3.8.4.7: UID is required, once; RFC 4791 §4.1: all components of a resource share it. */
function checkOneUid(items: JcalComponent[], MAIN: string, id: string): string {
  const uids = new Set<string>();
  for (const item of items) {
    const n = properties(item, 'uid').length;
    if (n !== 1) fail('invalid_icalendar', `a ${MAIN} has ${n === 0 ? 'no UID' : `${n} UIDs`}; each needs exactly one (RFC 5545 §3.8.4.7)`, { field: 'UID' });
    uids.add(firstValueText(item, 'uid') ?? '');
  }
  if (uids.size > 1) {
    const list = [...uids].map((u) => `"${u}"`).join(', ');
    fail('invalid_icalendar', `the ${MAIN}s have different UIDs (${list}); one item holds one UID and its exceptions (RFC 4791 §4.1)`, {
      uids: [...uids],
    });
  }
  const uid = [...uids][0];
  if (uid !== id) fail('uid_mismatch', `the ${MAIN} UID is "${uid}" but the item id is "${id}"`, { uid, id });
  return uid;
}

/** At most one master (no RECURRENCE-ID) and distinct RECURRENCE-IDs (RFC 5545 §3.8.4.4). */
function checkRecurrenceSet(items: JcalComponent[], MAIN: string, uid: string): void {
  const seen = new Set<string>();
  let masters = 0;
  for (const item of items) {
    const rids = properties(item, 'recurrence-id');
    if (rids.length > 1) fail('invalid_icalendar', `a ${MAIN} with UID "${uid}" has ${rids.length} RECURRENCE-IDs; at most one is allowed`, { field: 'RECURRENCE-ID' });
    if (rids.length === 0) {
      masters++;
      if (masters > 1) {
        fail('invalid_icalendar', `UID "${uid}" has ${masters} ${MAIN}s without RECURRENCE-ID; only the master may omit it`, { field: 'RECURRENCE-ID' });
      }
      continue;
    }
    const key = JSON.stringify([rids[0][1].tzid ?? null, firstValueText(item, 'recurrence-id')]);
    if (seen.has(key)) {
      fail('invalid_icalendar', `UID "${uid}" has two ${MAIN}s with RECURRENCE-ID ${firstValueText(item, 'recurrence-id')}`, { field: 'RECURRENCE-ID' });
    }
    seen.add(key);
  }
}

/**
 * RFC 5545 §3.6.1: a VEVENT needs DTSTART (no METHOD is present); DTEND and DURATION "MUST NOT
 * occur in the same eventprop", and DTEND has the value type of DTSTART (§3.8.2.2).
 * §3.6.2: a VTODO's DTSTART is optional; DUE and DURATION are exclusive and DURATION needs DTSTART.
 */
function checkTiming(item: JcalComponent, MAIN: string, uid: string): void {
  const where = `${MAIN} "${uid}"`;
  const count = (name: string) => properties(item, name).length;
  for (const name of ['dtstart', 'dtend', 'due', 'duration']) {
    if (count(name) > 1) fail('invalid_icalendar', `${where} has ${count(name)} ${name.toUpperCase()} properties; at most one is allowed`, { field: name.toUpperCase() });
  }
  const start = firstProperty(item, 'dtstart');
  if (MAIN === 'VEVENT' && start === null) fail('invalid_icalendar', `${where} has no DTSTART (RFC 5545 §3.6.1)`, { field: 'DTSTART' });
  const end = MAIN === 'VEVENT' ? 'dtend' : 'due';
  const END = end.toUpperCase();
  if (count(end) > 0 && count('duration') > 0) {
    fail('invalid_icalendar', `${where} has both ${END} and DURATION; RFC 5545 allows only one of them`, { field: 'DURATION' });
  }
  if (MAIN === 'VTODO' && count('duration') > 0 && start === null) {
    fail('invalid_icalendar', `${where} has DURATION but no DTSTART (RFC 5545 §3.6.2)`, { field: 'DTSTART' });
  }
  const endProp = firstProperty(item, end);
  if (start !== null && endProp !== null && start[2] !== endProp[2]) {
    fail(
      'invalid_icalendar',
      `${where}: ${END} is a ${endProp[2].toUpperCase()} but DTSTART is a ${start[2].toUpperCase()}; they must have the same value type (RFC 5545 §3.8.2.2, §3.8.2.3)`,
      { field: END },
    );
  }
}
