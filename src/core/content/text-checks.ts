// Checks every stored text passes: size in UTF-8 bytes, well-formed Unicode, no stray control characters.
import { fail, type ErrorCode } from '../errors.js';

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Number of bytes `text` takes as UTF-8 — the unit limits are stated in. */
export function utf8Length(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/** Fails with `code` when `text` is larger than `maxBytes` UTF-8 bytes. */
export function checkTextSize(text: string, maxBytes: number, code: ErrorCode, what: string): void {
  const bytes = utf8Length(text);
  if (bytes > maxBytes) fail(code, `${what} is ${bytes} bytes of UTF-8; the limit is ${maxBytes}`, { bytes, limit: maxBytes });
}

/**
 * Fails when `text` holds a lone UTF-16 surrogate. Such a string has no UTF-8 form: it would be
 * stored and hashed as U+FFFD, so the bytes given back would differ from the ones accepted.
 */
export function checkWellFormedUnicode(text: string, code: ErrorCode, what: string): void {
  // String.prototype.isWellFormed (ES2024, in Node 20) is the fast path; the regex finds the index.
  if ((text as unknown as { isWellFormed(): boolean }).isWellFormed()) return;
  const m = LONE_SURROGATE.exec(text);
  if (m) fail(code, `${what} contains a lone UTF-16 surrogate at index ${m.index} (not valid Unicode)`, { index: m.index });
}

/**
 * Fails on control characters in vCard/iCalendar text other than tab and the CRLF/LF line break.
 * RFC 5545 §3.1 and RFC 6350 §3.3 exclude CONTROL (%x00-08 / %x0A-1F / %x7F) from content
 * lines; a bare CR is not a line break there either.
 */
export function checkNoControlCharacters(text: string, code: ErrorCode, what: string): void {
  const m = /[\x00-\x08\x0B\x0C\x0E-\x1F\x7F]|\r(?!\n)/.exec(text);
  if (!m) return;
  const line = text.slice(0, m.index).split('\n').length;
  const hex = m[0].charCodeAt(0).toString(16).toUpperCase().padStart(2, '0');
  fail(code, `${what}: line ${line} contains control character U+00${hex}`, { line });
}
