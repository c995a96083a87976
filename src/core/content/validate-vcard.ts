// Validation of a contact: exactly one vCard 3.0/4.0 whose UID is the item id.
import { fail } from '../errors.js';
import { firstValueText, properties, subcomponents } from './jcal.js';
import { parseJcal } from './parse-ical-text.js';

const WHAT = 'contact vCard';

/**
 * Checks that `text` is exactly one vCard 3.0 (RFC 2426) or 4.0 (RFC 6350) with an FN and a UID
 * equal to `id`. The text itself is not changed; this only throws.
 *
 * @throws KeepsakeError `invalid_vcard` naming what is wrong, or `uid_mismatch` with both UIDs.
 */
export function validateVCard(id: string, text: string): void {
  const { components } = parseJcal(text, 'invalid_vcard', WHAT);
  if (components.length === 0) fail('invalid_vcard', `${WHAT} is empty: expected BEGIN:VCARD ... END:VCARD`);
  if (components.length > 1) {
    const names = components.map((c) => c[0].toUpperCase()).join(', ');
    fail('invalid_vcard', `${WHAT} holds ${components.length} components (${names}); one contact is exactly one vCard`, {
      count: components.length,
    });
  }
  const card = components[0];
  if (card[0] !== 'vcard') fail('invalid_vcard', `expected BEGIN:VCARD, found BEGIN:${card[0].toUpperCase()}`);
  // RFC 6350 §3.3: a vCard is BEGIN, content lines, END; it has no nested components.
  const nested = subcomponents(card)[0];
  if (nested !== undefined) fail('invalid_vcard', `a vCard cannot contain BEGIN:${nested[0].toUpperCase()} (RFC 6350 §3.3)`);

  // RFC 6350 §6.7.9: "The VERSION property MUST be present"; one value per vCard.
  const versions = properties(card, 'version');
  if (versions.length !== 1) fail('invalid_vcard', `a vCard needs exactly one VERSION property, found ${versions.length}`, { field: 'VERSION' });
  const version = firstValueText(card, 'version');
  if (version !== '3.0' && version !== '4.0') {
    fail('invalid_vcard', `VERSION is "${version}"; only vCard 3.0 and 4.0 are accepted`, { field: 'VERSION', version });
  }
  // RFC 6350 §6.7.9: in 4.0 VERSION "MUST come immediately after BEGIN:VCARD"; ical.js also
  // picks its 3.0 or 4.0 value rules from that first property.
  if (version === '4.0' && properties(card)[0]?.[0] !== 'version') {
    fail('invalid_vcard', 'in a vCard 4.0, VERSION:4.0 must be the first line after BEGIN:VCARD (RFC 6350 §6.7.9)', { field: 'VERSION' });
  }
  // RFC 6350 §6.2.1 / RFC 2426 §3.1.1: FN is required.
  if (properties(card, 'fn').length === 0) fail('invalid_vcard', 'the vCard has no FN (formatted name) property', { field: 'FN' });

  // RFC 6350 §6.7.6: UID cardinality *1. Keepsake requires it and requires it to be the item id.
  const uids = properties(card, 'uid');
  if (uids.length === 0) fail('invalid_vcard', `the vCard has no UID property; it must be UID:${id}`, { field: 'UID' });
  if (uids.length > 1) fail('invalid_vcard', `the vCard has ${uids.length} UID properties; at most one is allowed`, { field: 'UID' });
  const uid = firstValueText(card, 'uid');
  if (uid !== id) fail('uid_mismatch', `the vCard's UID is "${uid}" but the item id is "${id}"`, { uid, id });
}
