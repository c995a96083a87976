// Item content in and out: validate what a client sent and produce the canonical stored text and its hash.
import type { Kind } from '../../protocol/sync-protocol.js';
import { fail, type ErrorCode } from '../errors.js';
import { contentHash } from '../hash.js';
import { canonicalJson, type JsonValue } from './canonical-json.js';
import { validateNote } from './note-content.js';
import { describeType } from './object-fields.js';
import { validatePhoto } from './photo-content.js';
import { validateScore } from './score-content.js';
import { checkTextSize } from './text-checks.js';
import { validateICalendar } from './validate-icalendar.js';
import { validateVCard } from './validate-vcard.js';

/** Size limits for item content. */
export interface ContentLimits {
  /** Largest stored text (vCard, iCalendar or canonical JSON), in UTF-8 bytes. */
  maxTextBytes: number;
  /** Largest photo blob a photo item may declare, in bytes. */
  maxBlobBytes: number;
}

/** Canonical stored text of an item and `contentHash(text)`. */
export interface CanonicalContent {
  text: string;
  hash: string;
}

const TEXT_KINDS: Partial<Record<Kind, { code: ErrorCode; what: string; format: string }>> = {
  contacts: { code: 'invalid_vcard', what: 'contact', format: 'a vCard string' },
  calendar: { code: 'invalid_icalendar', what: 'event', format: 'an iCalendar string' },
  tasks: { code: 'invalid_icalendar', what: 'task', format: 'an iCalendar string' },
};

/**
 * Validates `content` for an item `id` of `kind` and returns the text to store and its hash.
 *
 * - contacts, calendar, tasks: `content` must be a string; it is stored unchanged (CardDAV and
 *   CalDAV clients must get their own bytes back) after validation by `validateVCard` /
 *   `validateICalendar`. A non-string fails with the kind's own code (`invalid_vcard` or
 *   `invalid_icalendar`), so a client sees one code per kind for "this is not a contact/event".
 * - notes, photos, scores: `content` must be a plain object with exactly the kind's fields; the
 *   stored text is its canonical JSON (sorted keys), so key order never changes the hash.
 *
 * Every stored text is limited to `limits.maxTextBytes` UTF-8 bytes (failing with the kind's code).
 *
 * @throws KeepsakeError `invalid_vcard`, `invalid_icalendar`, `uid_mismatch` or `invalid_content`,
 *   with a message naming the field, the expected type or the UIDs involved. Nothing else.
 */
export function canonicalizeContent(kind: Kind, id: string, content: unknown, limits: ContentLimits): CanonicalContent {
  const textKind = TEXT_KINDS[kind];
  if (textKind !== undefined) {
    if (typeof content !== 'string') {
      fail(textKind.code, `${textKind.what} content must be ${textKind.format}; got ${describeType(content)}`, { expected: 'string' });
    }
    // Size first: never hand an oversized text to the parser.
    checkTextSize(content, limits.maxTextBytes, textKind.code, `${textKind.what} content`);
    if (kind === 'contacts') validateVCard(id, content);
    else validateICalendar(kind === 'calendar' ? 'calendar' : 'tasks', id, content);
    return { text: content, hash: contentHash(content) };
  }
  const value = validateObject(kind, content, limits);
  const text = canonicalJson(value as unknown as JsonValue);
  checkTextSize(text, limits.maxTextBytes, 'invalid_content', `${kind} content`);
  return { text, hash: contentHash(text) };
}

function validateObject(kind: Kind, content: unknown, limits: ContentLimits): object {
  switch (kind) {
    case 'notes':
      return validateNote(content);
    case 'photos':
      return validatePhoto(content, limits.maxBlobBytes);
    case 'scores':
      return validateScore(content);
    default:
      return fail('invalid_content', `no content rules for kind "${String(kind)}"`);
  }
}

/**
 * Turns stored text back into wire content: the text itself for contacts, calendar and tasks,
 * the parsed object for notes, photos and scores. Stored text was produced by
 * `canonicalizeContent`; text that no longer parses is damage and fails with `internal`.
 */
export function decodeContent(kind: Kind, text: string): string | object {
  if (TEXT_KINDS[kind] !== undefined) return text;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    fail('internal', `stored ${kind} content is not valid JSON (damaged record?)`, { kind, cause: e instanceof Error ? e.message : String(e) });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    fail('internal', `stored ${kind} content is ${describeType(value)}, not an object (damaged record?)`, { kind });
  }
  return value;
}
