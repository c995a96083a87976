// Validation of client-chosen ids (collections, items, changes): they are data, never paths.
import { checkWellFormedUnicode } from './content/text-checks.js';
import { fail } from './errors.js';

const MAX_ID = 255;
// Printable characters except path separators and the characters that break URLs and file names.
// UIDs such as `urn:uuid:…` or `…@example.com` stay valid.
const FORBIDDEN = /[\u0000-\u001f\u007f/\\?#%"<>|*]/;

/** Throws `invalid_id` unless `id` is safe to use as an item, collection or change id. */
export function checkId(id: unknown, what: string): string {
  if (typeof id !== 'string' || id.length === 0) fail('invalid_id', `${what} must be a non-empty string`, { field: what });
  if (id.length > MAX_ID) fail('invalid_id', `${what} is longer than ${MAX_ID} characters`, { field: what });
  // A lone UTF-16 surrogate has no UTF-8 form: stored, it would come back as U+FFFD, another id.
  checkWellFormedUnicode(id, 'invalid_id', what);
  if (id === '.' || id === '..' || FORBIDDEN.test(id) || id.trim() !== id) {
    fail('invalid_id', `${what} "${id.slice(0, 80)}" contains path, control or reserved characters`, { field: what });
  }
  return id;
}

const USER_NAME = /^[a-z0-9][a-z0-9._@-]{0,63}$/i;

/** Throws `invalid_request` unless `name` is a valid account name. */
export function checkUserName(name: unknown): string {
  if (typeof name !== 'string' || !USER_NAME.test(name)) {
    fail('invalid_request', 'user name must be 1-64 letters, digits, ".", "_", "@" or "-", starting with a letter or digit', { field: 'name' });
  }
  return name;
}
