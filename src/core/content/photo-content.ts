// A photo's metadata: which blob, its file name, type, size, when it was taken, and (WebDAV) its folder and dead properties.
import type { PhotoContent } from '../../protocol/sync-protocol.js';
import { fail } from '../errors.js';
import { isContentHash } from '../hash.js';
import { isRfc3339DateTime } from './date-time.js';
import { checkFields, describeType, stringField } from './object-fields.js';
import { checkWellFormedUnicode } from './text-checks.js';

/** The image types a photo may have; the blob's bytes are sniffed against it elsewhere. */
export const PHOTO_TYPES = ['image/jpeg', 'image/png', 'image/heic', 'image/webp', 'image/gif'] as const;
export type PhotoType = (typeof PHOTO_TYPES)[number];

/**
 * A file whose bytes are none of the image types (a video, an .xmp/.aae sidecar, a text file a
 * WebDAV client put into a photo folder): recorded as such, never as an image type.
 */
export const OTHER_FILE_TYPE = 'application/octet-stream';
/** A folder entry of a photo collection (WebDAV MKCOL): no bytes (the empty blob, size 0). */
export const FOLDER_TYPE = 'inode/directory';
/** Every `type` a photos item may have. */
export const PHOTO_ITEM_TYPES: readonly string[] = [...PHOTO_TYPES, OTHER_FILE_TYPE, FOLDER_TYPE];

/** Longest folder path of a photo, in characters; deepest nesting. */
export const MAX_PHOTO_PATH = 1024;
export const MAX_PHOTO_DEPTH = 32;
/** Longest dead-property name (`{namespace}name`) a photo may carry. */
const MAX_PROP_NAME = 1024;

/** Longest photo file name, in characters (the common file-system limit). */
export const MAX_PHOTO_NAME = 255;

/** Fails unless `name` is a plain file name: no `/`, `\`, control characters, `.` or `..`. */
function checkPlainName(name: string, field: string): void {
  const bad = /[/\\\p{Cc}]/u.exec(name);
  if (bad) {
    const shown = /\p{Cc}/u.test(bad[0]) ? `control character U+${bad[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}` : `"${bad[0]}"`;
    fail('invalid_content', `photo field "${field}" must be ${field === 'name' ? 'a plain file name' : 'folder names joined by "/"'}; it contains ${shown}`, { field });
  }
  if (name === '.' || name === '..') fail('invalid_content', `photo field "${field}" cannot be "${name}"`, { field });
}

/**
 * Checks `content` is `{ blob, name, type, size, takenAt?, path?, props? }`: `blob` a
 * `sha256:<64 hex>` name, `name` a plain file name (it becomes a file name on export, so no `/`,
 * `\`, control characters, `.` or `..`), `type` one of PHOTO_ITEM_TYPES (an image type, or
 * OTHER_FILE_TYPE for other files, or FOLDER_TYPE with size 0 for a folder), `size` an integer
 * 0..maxBlobBytes, `takenAt` an RFC 3339 date-time, `path` the folder the file is in inside its
 * collection (plain names joined by `/`, no leading or trailing `/`; absent at the top), and
 * `props` WebDAV dead properties (`{namespace}name` to XML text). Whether the blob exists and
 * matches `type` is checked elsewhere. Returns a clean copy.
 */
export function validatePhoto(content: unknown, maxBlobBytes: number): PhotoContent {
  const record = checkFields(content, 'photo', ['blob', 'name', 'type', 'size'], ['takenAt', 'path', 'props']);
  const blob = stringField(record, 'photo', 'blob');
  if (!isContentHash(blob)) {
    fail('invalid_content', `photo field "blob" must be "sha256:" and 64 lower-case hex digits; got "${String(blob).slice(0, 80)}"`, { field: 'blob' });
  }

  const name = stringField(record, 'photo', 'name', { nonEmpty: true, maxLength: MAX_PHOTO_NAME });
  checkPlainName(name, 'name');

  const type = stringField(record, 'photo', 'type');
  if (!PHOTO_ITEM_TYPES.includes(type)) {
    fail('invalid_content', `photo field "type" is "${type.slice(0, 80)}"; expected one of ${PHOTO_ITEM_TYPES.join(', ')}`, { field: 'type' });
  }

  const size = record.size;
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0 || size > maxBlobBytes) {
    const got = typeof size === 'number' ? String(size) : describeType(size);
    fail('invalid_content', `photo field "size" must be an integer from 0 to ${maxBlobBytes}; got ${got}`, { field: 'size' });
  }

  if (type === FOLDER_TYPE && size !== 0) fail('invalid_content', `a folder (type ${FOLDER_TYPE}) has size 0; got ${size}`, { field: 'size' });

  const photo: PhotoContent = { blob, name, type, size };
  if (record.path !== undefined) {
    const path = stringField(record, 'photo', 'path', { nonEmpty: true, maxLength: MAX_PHOTO_PATH });
    const segments = path.split('/');
    if (segments.length > MAX_PHOTO_DEPTH) fail('invalid_content', `photo field "path" nests ${segments.length} folders deep; the limit is ${MAX_PHOTO_DEPTH}`, { field: 'path' });
    for (const s of segments) {
      if (s === '') fail('invalid_content', 'photo field "path" has an empty folder name (no leading, trailing or double "/")', { field: 'path' });
      checkPlainName(s, 'path');
    }
    photo.path = path;
  }
  if (record.props !== undefined) photo.props = checkProps(record.props);
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

/** WebDAV dead properties: a plain object of `{namespace}name` keys to XML text values. */
function checkProps(value: unknown): Record<string, string> {
  const proto = value !== null && typeof value === 'object' ? Object.getPrototypeOf(value) : undefined;
  if (proto !== Object.prototype && proto !== null) fail('invalid_content', `photo field "props" must be an object; got ${describeType(value)}`, { field: 'props' });
  const out: Record<string, string> = {};
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    if (!/^\{[^{}]*\}[^{}\s]+$/.test(key) || key.length > MAX_PROP_NAME) {
      fail('invalid_content', `photo field "props" has the key "${key.slice(0, 80)}"; keys are "{namespace}name"`, { field: 'props' });
    }
    if (typeof v !== 'string') fail('invalid_content', `photo property "${key.slice(0, 80)}" must be a string; got ${describeType(v)}`, { field: 'props' });
    checkWellFormedUnicode(v, 'invalid_content', `photo property "${key.slice(0, 80)}"`);
    out[key] = v;
  }
  return out;
}
