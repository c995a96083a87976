// CalDAV calendar-query (RFC 4791 §7.8, §9.7, §9.9) and expand (§9.6.5): filters evaluated on stored iCalendar with ical.js.
import ICAL from 'ical.js';
import { type IcalComponent } from '../content/parse-ical-text.js';
import { fail } from '../errors.js';

/** A time range in Unix seconds; a missing bound is open. */
export interface TimeRange {
  start: number | null;
  end: number | null;
}

/** RFC 4791 §9.7.5 / RFC 6352 §10.5.4 text-match. */
export interface TextMatch {
  text: string;
  /** `i;ascii-casemap` / `i;unicode-casemap` compare without case; `i;octet` exactly. */
  caseless: boolean;
  negate: boolean;
  matchType: 'equals' | 'contains' | 'starts-with' | 'ends-with';
}

export interface ParamFilter {
  name: string;
  isNotDefined: boolean;
  textMatch: TextMatch | null;
}

export interface PropFilter {
  name: string;
  isNotDefined: boolean;
  timeRange: TimeRange | null;
  textMatches: TextMatch[];
  params: ParamFilter[];
  /** RFC 6352 `test` attribute: whether every or any text-match/param-filter must hold. */
  allOf: boolean;
}

export interface CompFilter {
  name: string;
  isNotDefined: boolean;
  timeRange: TimeRange | null;
  props: PropFilter[];
  comps: CompFilter[];
}

/** Most occurrences looked at for one recurring event before giving up (an endless RRULE far in the future). */
const MAX_OCCURRENCES = 20_000;

/** Parses a CalDAV UTC date-time such as `20260105T000000Z` into Unix seconds. */
export function parseUtcDateTime(text: string, what: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text.trim());
  if (!m) fail('invalid_xml', `${what} "${text.slice(0, 40)}" is not a UTC date-time like 20260105T000000Z (RFC 4791 §9.9)`);
  return Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]) / 1000;
}

function parseCalendar(text: string): IcalComponent | null {
  try {
    const c = new ICAL.Component(ICAL.parse(text) as unknown[]);
    // Time zones defined in the object itself, so TZID-qualified times convert correctly.
    for (const tz of c.getAllSubcomponents('vtimezone')) {
      const id = tz.getFirstPropertyValue('tzid');
      if (typeof id === 'string' && !ICAL.TimezoneService.has(id)) ICAL.TimezoneService.register(tz);
    }
    return c;
  } catch {
    return null;
  }
}

function unix(t: InstanceType<typeof ICAL.Time>): number {
  return t.toUnixTime();
}

/** RFC 4791 §9.9: does [start, end) overlap the range? A zero-length event at `start` counts. */
function overlaps(range: TimeRange, start: number, end: number): boolean {
  const afterStart = range.start === null || end > range.start || (end === start && start >= range.start);
  const beforeEnd = range.end === null || start < range.end;
  return afterStart && beforeEnd;
}

/** One occurrence of an event: the component that describes it and its start and end. */
interface Occurrence {
  component: IcalComponent;
  start: InstanceType<typeof ICAL.Time>;
  end: InstanceType<typeof ICAL.Time>;
  recurrenceId: InstanceType<typeof ICAL.Time> | null;
}

/**
 * Every occurrence of the events in `cal` that overlaps `range` (all of them when the range is
 * open-ended, up to MAX_OCCURRENCES): the master's RRULE/RDATE/EXDATE applied, RECURRENCE-ID
 * exceptions replacing the instances they override (RFC 5545 §3.8.4.4).
 */
function eventOccurrences(cal: IcalComponent, range: TimeRange): Occurrence[] {
  const events = cal.getAllSubcomponents('vevent');
  const master = events.find((e) => !e.hasProperty('recurrence-id'));
  const out: Occurrence[] = [];
  if (!master) {
    // Only exceptions (an invitation to single instances): each stands alone.
    for (const e of events) {
      const ev = new ICAL.Event(e);
      if (overlaps(range, unix(ev.startDate), unix(ev.endDate))) out.push({ component: e, start: ev.startDate, end: ev.endDate, recurrenceId: ev.recurrenceId });
    }
    return out;
  }
  const ev = new ICAL.Event(master);
  for (const e of events) if (e !== master) ev.relateException(e);
  if (!ev.isRecurring()) {
    if (overlaps(range, unix(ev.startDate), unix(ev.endDate))) out.push({ component: master, start: ev.startDate, end: ev.endDate, recurrenceId: null });
    return out;
  }
  const it = ev.iterator();
  // Exceptions can move an instance earlier than its original time, so iterate a little past the range end.
  const longest = Math.max(0, ...events.map((e) => { const x = new ICAL.Event(e); return unix(x.endDate) - unix(x.startDate); }));
  for (let n = 0, next = it.next(); next && n < MAX_OCCURRENCES; n++, next = it.next()) {
    const d = ev.getOccurrenceDetails(next);
    if (range.end !== null && unix(next) >= range.end + 366 * 86400) break;
    if (range.start !== null && unix(next) + longest + 366 * 86400 < range.start) continue;
    if (overlaps(range, unix(d.startDate), unix(d.endDate))) {
      out.push({ component: d.item.component, start: d.startDate, end: d.endDate, recurrenceId: d.recurrenceId });
    }
  }
  return out;
}

/** RFC 4791 §9.9 for VTODO: by DTSTART/DURATION/DUE, else COMPLETED/CREATED, else always. */
function todoOverlaps(todo: IcalComponent, range: TimeRange): boolean {
  const t = (name: string) => {
    const v = todo.getFirstPropertyValue(name);
    return v instanceof ICAL.Time ? unix(v) : null;
  };
  const dtstart = t('dtstart');
  const due = t('due');
  const durationValue = todo.getFirstPropertyValue('duration');
  const duration = durationValue instanceof ICAL.Duration ? durationValue.toSeconds() : null;
  const completed = t('completed');
  const created = t('created');
  const s = range.start ?? -Infinity;
  const e = range.end ?? Infinity;
  if (dtstart !== null && duration !== null) return (s <= dtstart || s < dtstart + duration) && (e > dtstart || e >= dtstart + duration);
  if (dtstart !== null && due !== null) return (s < due || s <= dtstart) && (e > dtstart || e >= due);
  if (dtstart !== null) return s <= dtstart && e > dtstart;
  if (due !== null) return s < due && e >= due;
  if (completed !== null && created !== null) return (s <= created || s <= completed) && (e >= created || e >= completed);
  if (completed !== null) return s <= completed && e >= completed;
  if (created !== null) return e > created;
  return true;
}

/** Compares text the way a CalDAV/CardDAV text-match asks. */
export function textMatches(value: string, m: TextMatch): boolean {
  const a = m.caseless ? value.toLocaleLowerCase('und') : value;
  const b = m.caseless ? m.text.toLocaleLowerCase('und') : m.text;
  const hit =
    m.matchType === 'equals' ? a === b : m.matchType === 'starts-with' ? a.startsWith(b) : m.matchType === 'ends-with' ? a.endsWith(b) : a.includes(b);
  return m.negate ? !hit : hit;
}

/** The text of a property value as a client sees it (structured values joined as in the text form). */
export function propertyText(p: InstanceType<typeof ICAL.Property>): string {
  return p
    .getValues()
    .map((v: unknown) => (Array.isArray(v) ? v.join(';') : typeof v === 'object' && v !== null ? String(v.toString()) : String(v)))
    .join(',');
}

export function propFilterMatches(comp: IcalComponent, f: PropFilter): boolean {
  const props = comp.getAllProperties(f.name.toLowerCase());
  if (f.isNotDefined) return props.length === 0;
  if (props.length === 0) return false;
  return props.some((p) => {
    if (f.timeRange) {
      const v = p.getFirstValue();
      if (!(v instanceof ICAL.Time) || !overlaps(f.timeRange, unix(v), unix(v))) return false;
    }
    const tests = [
      ...f.textMatches.map((m) => textMatches(propertyText(p), m)),
      ...f.params.map((pf) => {
        const v = p.getParameter(pf.name.toLowerCase());
        if (pf.isNotDefined) return v === undefined;
        if (v === undefined) return false;
        return pf.textMatch ? [v].flat().some((x) => textMatches(String(x), pf.textMatch!)) : true;
      }),
    ];
    if (tests.length === 0) return true;
    return f.allOf ? tests.every(Boolean) : tests.some(Boolean);
  });
}

function compMatches(comp: IcalComponent, f: CompFilter, cal: IcalComponent): boolean {
  if (f.timeRange) {
    if (comp.name === 'vevent') {
      // The whole recurrence set of this object is one resource: any overlapping instance matches.
      if (eventOccurrences(cal, f.timeRange).length === 0) return false;
    } else if (comp.name === 'vtodo') {
      if (!todoOverlaps(comp, f.timeRange)) return false;
    }
  }
  for (const p of f.props) if (!propFilterMatches(comp, p)) return false;
  for (const c of f.comps) {
    const subs = comp.getAllSubcomponents(c.name.toLowerCase());
    if (c.isNotDefined) {
      if (subs.length > 0) return false;
      continue;
    }
    if (!subs.some((s) => compMatches(s, c, cal))) return false;
  }
  return true;
}

/** RFC 4791 §9.7.1: whether a stored calendar object matches the query's filter. */
export function calendarMatches(text: string, filter: CompFilter): boolean {
  if (filter.name.toUpperCase() !== 'VCALENDAR') return false;
  const cal = parseCalendar(text);
  if (!cal) return false;
  if (filter.isNotDefined) return false;
  return compMatches(cal, filter, cal);
}

function utc(t: InstanceType<typeof ICAL.Time>): InstanceType<typeof ICAL.Time> {
  if (t.isDate) return t.clone();
  return t.convertToZone(ICAL.Timezone.utcTimezone);
}

/**
 * RFC 4791 §9.6.5: the object with its recurrence set expanded into the instances that overlap
 * `range`, each a VEVENT with RECURRENCE-ID and no RRULE/RDATE/EXDATE, times in UTC.
 * Non-recurring objects and tasks come back unchanged.
 */
export function expandCalendar(text: string, range: TimeRange): string {
  const cal = parseCalendar(text);
  if (!cal) return text;
  const events = cal.getAllSubcomponents('vevent');
  const master = events.find((e) => !e.hasProperty('recurrence-id'));
  if (!master || !new ICAL.Event(master).isRecurring()) return text;
  const out = new ICAL.Component(['vcalendar', [], []]);
  for (const p of cal.getAllProperties()) out.addProperty(ICAL.Property.fromString(p.toICALString()));
  for (const occ of eventOccurrences(cal, range)) {
    const c = new ICAL.Component(structuredClone(occ.component.toJSON()) as unknown[]);
    for (const name of ['rrule', 'rdate', 'exdate', 'exrule', 'duration', 'dtstart', 'dtend', 'recurrence-id']) c.removeAllProperties(name);
    c.addPropertyWithValue('dtstart', utc(occ.start));
    c.addPropertyWithValue('dtend', utc(occ.end));
    c.addPropertyWithValue('recurrence-id', utc(occ.recurrenceId ?? occ.start));
    out.addSubcomponent(c);
  }
  return out.toString().replace(/\r?\n/g, '\r\n') + '\r\n';
}
