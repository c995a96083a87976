// The six kinds and the default collection each new user gets.
import { KINDS, type Kind } from '../protocol/sync-protocol.js';
import { fail } from './errors.js';
import type { NewCollection } from './model.js';

export { KINDS, type Kind };

const DEFAULT_NAMES: Record<Kind, string> = {
  contacts: 'Contacts',
  calendar: 'Calendar',
  notes: 'Notes',
  tasks: 'Tasks',
  photos: 'Photos',
  scores: 'High scores',
};

/** One collection per kind, with the kind as its id. */
export function defaultCollections(): NewCollection[] {
  return KINDS.map((kind) => ({ id: kind, kind, name: DEFAULT_NAMES[kind] }));
}

export function isKind(v: unknown): v is Kind {
  return typeof v === 'string' && (KINDS as readonly string[]).includes(v);
}

export function checkKind(v: unknown): Kind {
  if (!isKind(v)) fail('unknown_kind', `kind must be one of ${KINDS.join(', ')}`, { field: 'kind' });
  return v;
}
