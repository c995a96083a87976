// The UID inside a vCard or iCalendar object, so a resource a client names freely maps to its item (id = UID).
import ICAL from 'ical.js';

/** The UID of the first VCARD, VEVENT or VTODO in `text`, or null when there is none or the text does not parse (validation reports that). */
export function uidOf(text: string): string | null {
  try {
    const root = new ICAL.Component(ICAL.parse(text) as unknown[]);
    const holder = root.name === 'vcard' ? root : (root.getFirstSubcomponent('vevent') ?? root.getFirstSubcomponent('vtodo'));
    const uid = holder?.getFirstPropertyValue('uid');
    return typeof uid === 'string' && uid !== '' ? uid : null;
  } catch {
    return null;
  }
}
