// A photo's metadata: which blob, its file name, image type, size and when it was taken.
import type { PhotoContent } from '../../protocol/sync-protocol.js';
import { fail } from '../errors.js';
import { isContentHash } from '../hash.js';
import { isRfc3339DateTime } from './date-time.js';
import { checkFields, describeType, stringField } from './object-fields.js';

/** The image types a photo may have; the blob's bytes are sniffed against it elsewhere. */
export const PHOTO_TYPES = ['image/jpeg', 'image/png', 'image/heic', 'image/webp', 'image/gif'] as const;
export type PhotoType = (typeof PHOTO_TYPES)[number];

/** Longest photo file name, in characters (the common file-system limit). */
export const MAX_PHOTO_NAME = 255;

/**
 * Checks `content` is `{ blob, name, type, size, takenAt? }`: `blob` a `sha256:<64 hex>` name,
 * `name` a plain file name (it becomes a file name on export, so no `/`, `\`, control
 * characters, `.` or `..`), `type` one of PHOTO_TYPES, `size` an integer 0..maxBlobBytes and
 * `takenAt` an RFC 3339 date-time. Whether the blob exists is checked elsewhere. Returns a clean copy.
 */
export function validatePhoto(content: unknown, maxBlobBytes: number): PhotoContent {
  const record = checkFields(content, 'photo', ['blob', 'name', 'type', 'size'], ['takenAt']);
  const blob = stringField(record, 'photo', 'blob');
  if (!isContentHash(blob)) {
    fail('invalid_content', `photo field "blob" must be "sha256:" and 64 lower-case hex digits; got "${String(blob).slice(0, 80)}"`, { field: 'blob' });
  }

  const name = stringField(record, 'photo', 'name', { nonEmpty: true, maxLength: MAX_PHOTO_NAME });
  const bad = /[/\\\p{Cc}]/u.exec(name);
  if (bad) {
    const shown = /\p{Cc}/u.test(bad[0]) ? `control character U+${bad[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}` : `"${bad[0]}"`;
    fail('invalid_content', `photo field "name" must be a plain file name; it contains ${shown}`, { field: 'name' });
  }
  if (name === '.' || name === '..') fail('invalid_content', `photo field "name" cannot be "${name}"`, { field: 'name' });

  const type = stringField(record, 'photo', 'type');
  if (!(PHOTO_TYPES as readonly string[]).includes(type)) {
    fail('invalid_content', `photo field "type" is "${type.slice(0, 80)}"; expected one of ${PHOTO_TYPES.join(', ')}`, { field: 'type' });
  }

  const size = record.size;
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0 || size > maxBlobBytes) {
    const got = typeof size === 'number' ? String(size) : describeType(size);
    fail('invalid_content', `photo field "size" must be an integer from 0 to ${maxBlobBytes}; got ${got}`, { field: 'size' });
  }

  const photo: PhotoContent = { blob, name, type, size };
  if (record.takenAt !== undefined) {
    const takenAt = stringField(record, 'photo', 'takenAt');
    if (!isRfc3339DateTime(takenAt)) {
      fail('invalid_content', `photo field "takenAt" is "${takenAt.slice(0, 80)}"; expected an ISO-8601 date-time with offset, e.g. 2024-05-01T12:30:00Z`, {
        field: 'takenAt',
      });
    }
    photo.takenAt = takenAt;
  }
  return photo;
}
