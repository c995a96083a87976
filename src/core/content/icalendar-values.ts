// Value checks for iCalendar dates, durations and recurrence rules, which ical.js parses without complaint.
import ICAL from 'ical.js';
import { fail } from '../errors.js';
import { firstProperty, properties, subcomponents, type JcalComponent } from './jcal.js';

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(Z?)$/;
/** Value types `checkValue` looks at; properties of other types are skipped without building a label. */
const CHECKED_TYPES = new Set(['date', 'date-time', 'duration', 'period', 'recur']);
const FREQUENCIES = new Set(['SECONDLY', 'MINUTELY', 'HOURLY', 'DAILY', 'WEEKLY', 'MONTHLY', 'YEARLY']);

function validDate(y: string, m: string, d: string): boolean {
  const month = Number(m);
  return month >= 1 && month <= 12 && Number(d) >= 1 && Number(d) <= ICAL.Time.daysInMonth(month, Number(y));
}

/** True for a jCal DATE value (`2024-02-29`); RFC 5545 §3.3.4. */
export function isIcalDate(value: unknown): boolean {
  const m = typeof value === 'string' ? DATE.exec(value) : null;
  return m !== null && validDate(m[1], m[2], m[3]);
}

/** True for a jCal DATE-TIME value (`2024-02-29T10:00:00` or with `Z`); RFC 5545 §3.3.5 allows second 60 (leap second). */
export function isIcalDateTime(value: unknown): boolean {
  const m = typeof value === 'string' ? DATE_TIME.exec(value) : null;
  return m !== null && validDate(m[1], m[2], m[3]) && Number(m[4]) <= 23 && Number(m[5]) <= 59 && Number(m[6]) <= 60;
}

function isIcalDuration(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  try {
    ICAL.Duration.fromString(value);
    return true;
  } catch {
    return false;
  }
}

/**
 * Checks every DATE, DATE-TIME, DURATION, PERIOD and RECUR value in `component` and its
 * subcomponents. ical.js turns `DTSTART:garbage` into the value `"garb-ag-eT::"` and
 * `DTSTART:20240101` (a date without `;VALUE=DATE`) into `"2024-01-01T::"` without an error,
 * and keeps an RRULE without FREQ; clients then fail on these items later, so they are refused here.
 */
export function checkIcalValues(component: JcalComponent, where: string): void {
  const pending: Array<{ comp: JcalComponent; where: string }> = [{ comp: component, where }];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const { comp } = next;
    for (const prop of properties(comp)) {
      const type = prop[2];
      if (!CHECKED_TYPES.has(type)) continue;
      const label = `${next.where}: ${prop[0].toUpperCase()}`;
      for (let i = 3; i < prop.length; i++) checkValue(label, type, prop[i]);
    }
    for (const sub of subcomponents(comp)) {
      const uid = firstProperty(sub, 'uid')?.[3];
      const name = typeof uid === 'string' ? `${sub[0].toUpperCase()} "${uid}"` : sub[0].toUpperCase();
      pending.push({ comp: sub, where: `${next.where} > ${name}` });
    }
  }
}

function checkValue(label: string, type: string, value: unknown): void {
  switch (type) {
    case 'date':
      if (!isIcalDate(value)) fail('invalid_icalendar', `${label} is not a valid DATE (RFC 5545 §3.3.4: YYYYMMDD)`, { property: label });
      return;
    case 'date-time':
      if (!isIcalDateTime(value)) {
        fail(
          'invalid_icalendar',
          `${label} is not a valid DATE-TIME (RFC 5545 §3.3.5: YYYYMMDDTHHMMSS[Z]); an all-day date must be written with ;VALUE=DATE`,
          { property: label },
        );
      }
      return;
    case 'duration':
      if (!isIcalDuration(value)) fail('invalid_icalendar', `${label} is not a valid DURATION (RFC 5545 §3.3.6, e.g. PT1H)`, { property: label });
      return;
    case 'period': {
      const [start, endOrDuration] = Array.isArray(value) ? value : [];
      if (!isIcalDateTime(start) || !(isIcalDateTime(endOrDuration) || isIcalDuration(endOrDuration))) {
        fail('invalid_icalendar', `${label} is not a valid PERIOD (RFC 5545 §3.3.9: start/end or start/duration)`, { property: label });
      }
      return;
    }
    case 'recur':
      checkRecur(label, value);
      return;
    default:
      return;
  }
}

/** RFC 5545 §3.3.10: FREQ is required and one of seven values; UNTIL is a DATE or DATE-TIME. */
function checkRecur(label: string, value: unknown): void {
  const rule = (value !== null && typeof value === 'object' ? value : {}) as { freq?: unknown; until?: unknown };
  if (typeof rule.freq !== 'string' || !FREQUENCIES.has(rule.freq)) {
    fail('invalid_icalendar', `${label} has no valid FREQ (RFC 5545 §3.3.10: one of ${[...FREQUENCIES].join(', ')})`, { property: label });
  }
  if (rule.until !== undefined && !isIcalDate(rule.until) && !isIcalDateTime(rule.until)) {
    fail('invalid_icalendar', `${label} has an UNTIL that is not a DATE or DATE-TIME (RFC 5545 §3.3.10)`, { property: label });
  }
}
