// A note's content: exactly a title and a Markdown body.
import type { NoteContent } from '../../protocol/sync-protocol.js';
import { checkFields, stringField } from './object-fields.js';

/** Checks `content` is `{ title: string, body: string }` and nothing else; returns a clean copy. */
export function validateNote(content: unknown): NoteContent {
  const record = checkFields(content, 'note', ['title', 'body']);
  return { title: stringField(record, 'note', 'title'), body: stringField(record, 'note', 'body') };
}
