// Timestamps in note/photo/score content: RFC 3339 date-times with an explicit offset.

// RFC 3339 §5.6 date-time, upper-case T and Z: 2024-05-01T12:30:00Z, 2024-05-01T12:30:00.123+02:00.
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-](\d{2}):(\d{2}))$/;

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/**
 * True when `value` is an ISO-8601 date-time in the RFC 3339 profile (§5.6): full date, full
 * time with seconds, and a `Z` or `±hh:mm` offset, naming a real calendar day that `Date`
 * parses. The offset is required so the instant is unambiguous on every device; `Date.parse`
 * alone would read an offset-less time in the server's zone and roll 2024-02-30 into March.
 */
export function isRfc3339DateTime(value: string): boolean {
  const m = RFC3339.exec(value);
  if (!m) return false;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return false;
  if (hour > 23 || minute > 59 || second > 59) return false;
  if (m[9] !== undefined && (Number(m[9]) > 23 || Number(m[10]) > 59)) return false;
  return !Number.isNaN(Date.parse(value));
}
