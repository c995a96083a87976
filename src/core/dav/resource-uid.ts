// The UID inside a vCard or iCalendar object, so a resource a client names freely maps to its item (id = UID).
import ICAL from 'ical.js';

/** A UID content line (vCard allows a group prefix, `item1.UID`); `m[1]` is ':' or ';' (parameters follow). */
const UID_LINE = /^(?:[A-Za-z0-9-]+\.)?UID([:;])(.*)$/gim;

/**
 * The UID of the first VCARD, VEVENT or VTODO in `text`, or null when there is none or the text
 * does not parse (validation reports that). `expected` is the UID the resource name suggests:
 * when every UID line of the text carries exactly that plain value, the answer is `expected` or
 * null (no UID where it counts), which a writer treats alike, so the full parse is skipped.
 */
export function uidOf(text: string, expected?: string): string | null {
  if (expected !== undefined && everyUidIs(text, expected)) return expected;
  try {
    const root = new ICAL.Component(ICAL.parse(text) as unknown[]);
    const holder = root.name === 'vcard' ? root : (root.getFirstSubcomponent('vevent') ?? root.getFirstSubcomponent('vtodo'));
    const uid = holder?.getFirstPropertyValue('uid');
    return typeof uid === 'string' && uid !== '' ? uid : null;
  } catch {
    return null;
  }
}

/** True when `text` has at least one UID line and every one is `UID:<value>` exactly, without parameters or escapes. */
function everyUidIs(text: string, value: string): boolean {
  if (value === '' || value.includes('\\')) return false;
  // RFC 5545 §3.1 / RFC 6350 §3.2: a line break followed by a space or tab continues the line.
  const unfolded = text.includes('\n ') || text.includes('\n\t') ? text.replace(/\r?\n[ \t]/g, '') : text;
  let seen = false;
  for (const m of unfolded.matchAll(UID_LINE)) {
    if (m[1] !== ':') return false;
    const v = m[2].endsWith('\r') ? m[2].slice(0, -1) : m[2];
    if (v !== value) return false;
    seen = true;
  }
  return seen;
}
