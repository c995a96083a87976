// Import and export files: split a .vcf/.ics into one text per item, and join item texts back into one file.
import ICAL from 'ical.js';
import { fail } from '../errors.js';
import { firstValueText, parseIcalText, type IcalComponent } from './parse-ical-text.js';

/** One item cut out of an .ics file: its UID, the kind it belongs to and a VCALENDAR holding only it. */
export interface ICalendarPart {
  uid: string;
  kind: 'calendar' | 'tasks';
  text: string;
}

/** PRODID written when joined items carry none (RFC 5545 §3.7.3 requires one per file). */
export const KEEPSAKE_PRODID = '-//Keepsake//Keepsake//EN';

const CRLF = '\r\n';

/**
 * Splits a .vcf file holding any number of vCards into one text per vCard.
 *
 * Each part is the vCard's original text, cut at its BEGIN:VCARD/END:VCARD lines, not ical.js's
 * re-serialisation: that is lossy for vCards (it drops `VALUE=uri` from 4.0 TEL, rewrites 3.0
 * dates, and in a file mixing 3.0 and 4.0 parses later cards with the first card's rules).
 * The whole file is still parsed by ical.js, so a malformed file fails here as a whole.
 * Parts are not validated as contacts (UID, FN): pass each to `canonicalizeContent`.
 *
 * @throws KeepsakeError `invalid_vcard` when the file is malformed or holds something other than vCards.
 */
export function splitVCards(text: string): string[] {
  const { components, spans } = parseIcalText(text, 'invalid_vcard', 'vCard file');
  return components.map((card, i) => {
    if (card.name !== 'vcard') fail('invalid_vcard', `a vCard file may hold only BEGIN:VCARD components, found BEGIN:${card.name.toUpperCase()}`);
    const part = text.slice(spans[i].start, spans[i].end);
    return part.endsWith('\n') ? part : part + CRLF;
  });
}

/** Joins vCard texts into one .vcf file (RFC 6350 §3.3: a vCard stream is vCards one after another). */
export function joinVCards(texts: string[]): string {
  return texts.map((t) => (t.endsWith('\n') ? t : t + CRLF)).join('');
}

/**
 * Splits an .ics file into one VCALENDAR per UID. Each part holds every VEVENT or VTODO with
 * that UID (the master and its RECURRENCE-ID exceptions), the VTIMEZONEs they reference by TZID,
 * and the source VCALENDAR's properties (VERSION, PRODID, CALSCALE, ...) except METHOD, which
 * stored calendar objects must not carry (RFC 4791 §4.1). Parts come in order of first
 * appearance and are built as ical.js components, then serialised with `toString()`.
 * Parts are not validated as items: pass each to `canonicalizeContent`.
 *
 * @throws KeepsakeError `invalid_icalendar` when the file is malformed, a component has no UID,
 *   one UID is both a VEVENT and a VTODO, or the file holds components Keepsake does not keep
 *   (VJOURNAL, VFREEBUSY, ...) — refused rather than silently dropped.
 */
export function splitICalendar(text: string): ICalendarPart[] {
  const { components } = parseIcalText(text, 'invalid_icalendar', 'iCalendar file');
  const groups = new Map<string, { kind: 'calendar' | 'tasks'; header: unknown[]; timezones: Map<string, IcalComponent>; items: IcalComponent[] }>();
  for (const cal of components) {
    if (cal.name !== 'vcalendar') fail('invalid_icalendar', `an iCalendar file may hold only VCALENDAR objects, found BEGIN:${cal.name.toUpperCase()}`);
    const header = headerProperties(cal);
    const timezones = timezonesById(cal);
    for (const sub of cal.getAllSubcomponents()) {
      if (sub.name === 'vtimezone') continue;
      const kind = sub.name === 'vevent' ? 'calendar' : sub.name === 'vtodo' ? 'tasks' : null;
      if (kind === null) {
        fail('invalid_icalendar', `cannot import ${sub.name.toUpperCase()}: Keepsake keeps events (VEVENT) and tasks (VTODO) only`, {
          component: sub.name.toUpperCase(),
        });
      }
      const uid = firstValueText(sub, 'uid');
      if (uid === null || uid === '') fail('invalid_icalendar', `a ${sub.name.toUpperCase()} has no UID (RFC 5545 §3.8.4.7 requires one)`, { field: 'UID' });
      let group = groups.get(uid);
      if (group === undefined) {
        group = { kind, header, timezones, items: [] };
        groups.set(uid, group);
      }
      if (group.kind !== kind) fail('invalid_icalendar', `UID "${uid}" is used by both a VEVENT and a VTODO`, { uid });
      group.items.push(sub);
    }
  }
  return [...groups].map(([uid, group]) => {
    const used = referencedTzids(group.items);
    const zones = [...group.timezones].filter(([tzid]) => used.has(tzid)).map(([, tz]) => tz);
    return { uid, kind: group.kind, text: buildCalendar(group.header, [...zones, ...group.items]) };
  });
}

/**
 * Joins single-item VCALENDAR texts into one .ics file: the first text's VCALENDAR properties
 * (without METHOD; VERSION and PRODID added when missing), each VTIMEZONE once (the first one
 * seen for a TZID wins), then every other component in order.
 *
 * @throws KeepsakeError `invalid_icalendar` when a text is not exactly one VCALENDAR.
 */
export function joinICalendar(texts: string[]): string {
  let header: unknown[] | null = null;
  const zones = new Map<string, IcalComponent>();
  const items: IcalComponent[] = [];
  for (const [i, text] of texts.entries()) {
    const { components } = parseIcalText(text, 'invalid_icalendar', `iCalendar text ${i + 1}`);
    const cal = components[0];
    if (components.length !== 1 || cal.name !== 'vcalendar') fail('invalid_icalendar', `iCalendar text ${i + 1} is not exactly one VCALENDAR`);
    header ??= headerProperties(cal);
    for (const [tzid, tz] of timezonesById(cal)) if (!zones.has(tzid)) zones.set(tzid, tz);
    items.push(...cal.getAllSubcomponents().filter((c) => c.name !== 'vtimezone'));
  }
  const props = header ?? [];
  const has = (name: string) => props.some((p) => (p as unknown[])[0] === name);
  if (!has('prodid')) props.unshift(['prodid', {}, 'text', KEEPSAKE_PRODID]);
  if (!has('version')) props.unshift(['version', {}, 'text', '2.0']);
  return buildCalendar(props, [...zones.values(), ...items]);
}

/** A copy of the VCALENDAR's own properties in jCal form, without METHOD (RFC 4791 §4.1). */
function headerProperties(cal: IcalComponent): unknown[] {
  return cal.getAllProperties().filter((p) => p.name !== 'method').map((p) => structuredClone(p.toJSON()));
}

function timezonesById(cal: IcalComponent): Map<string, IcalComponent> {
  const zones = new Map<string, IcalComponent>();
  for (const tz of cal.getAllSubcomponents('vtimezone')) {
    const tzid = firstValueText(tz, 'tzid');
    if (tzid !== null && !zones.has(tzid)) zones.set(tzid, tz);
  }
  return zones;
}

/** Every TZID parameter used by a property of `items` or their subcomponents (RFC 5545 §3.2.19). */
function referencedTzids(items: IcalComponent[]): Set<string> {
  const tzids = new Set<string>();
  const pending = [...items];
  for (let c = pending.pop(); c !== undefined; c = pending.pop()) {
    for (const prop of c.getAllProperties()) {
      const tzid = prop.getParameter('tzid');
      if (typeof tzid === 'string') tzids.add(tzid);
    }
    pending.push(...c.getAllSubcomponents());
  }
  return tzids;
}

function buildCalendar(header: unknown[], components: IcalComponent[]): string {
  const jcal = ['vcalendar', structuredClone(header), components.map((c) => structuredClone(c.toJSON()))];
  return new ICAL.Component(jcal).toString() + CRLF;
}
