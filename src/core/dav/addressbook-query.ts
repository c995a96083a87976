// CardDAV addressbook-query (RFC 6352 §8.6, §10.5): prop-filters with text-match over stored vCards.
import ICAL from 'ical.js';
import type { IcalComponent } from '../content/parse-ical-text.js';
import { type PropFilter, propFilterMatches } from './calendar-query.js';

/** RFC 6352 §10.5: `test="anyof"` (the default) or `allof` over the prop-filters. */
export interface AddressbookFilter {
  allOf: boolean;
  props: PropFilter[];
}

/** Whether a stored vCard matches the filter; an empty filter matches everything. */
export function addressbookMatches(text: string, filter: AddressbookFilter): boolean {
  if (filter.props.length === 0) return true;
  let card: IcalComponent;
  try {
    card = new ICAL.Component(ICAL.parse(text) as unknown[]);
  } catch {
    return false;
  }
  const results = filter.props.map((p) => propFilterMatches(card, p));
  return filter.allOf ? results.every(Boolean) : results.some(Boolean);
}
