// Field checks shared by the object kinds (notes, photos, scores): plain objects, known fields, typed values.
import { fail } from '../errors.js';
import { checkWellFormedUnicode } from './text-checks.js';

/** A short name for the JSON type of `value`, for error messages. */
export function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/**
 * Returns `value` as a record when it is a plain object (`{...}` or JSON-parsed) whose own
 * keys are all in `required` or `optional` and which has every required key; otherwise fails
 * with `invalid_content` naming the unknown or missing field. An optional key whose value is
 * `undefined` counts as absent.
 */
export function checkFields(value: unknown, what: string, required: readonly string[], optional: readonly string[] = []): Record<string, unknown> {
  const proto = value !== null && typeof value === 'object' ? Object.getPrototypeOf(value) : undefined;
  if (proto !== Object.prototype && proto !== null) {
    fail('invalid_content', `${what} content must be an object with ${required.join(', ')}; got ${describeType(value)}`, { expected: 'object' });
  }
  const record = value as Record<string, unknown>;
  const known = new Set([...required, ...optional]);
  for (const key of Object.keys(record)) {
    if (!known.has(key)) {
      fail('invalid_content', `${what} has unknown field "${key}"; allowed: ${[...known].join(', ')}`, { field: key });
    }
  }
  for (const key of required) {
    if (!Object.hasOwn(record, key) || record[key] === undefined) fail('invalid_content', `${what} is missing field "${key}"`, { field: key });
  }
  return record;
}

/** `record[field]` when it is a well-formed string of at most `maxLength` code points (and not empty when `nonEmpty`). */
export function stringField(record: Record<string, unknown>, what: string, field: string, opts: { maxLength?: number; nonEmpty?: boolean } = {}): string {
  const value = record[field];
  if (typeof value !== 'string') fail('invalid_content', `${what} field "${field}" must be a string; got ${describeType(value)}`, { field, expected: 'string' });
  checkWellFormedUnicode(value, 'invalid_content', `${what} field "${field}"`);
  if (opts.nonEmpty && value.length === 0) fail('invalid_content', `${what} field "${field}" must not be empty`, { field });
  if (opts.maxLength !== undefined) {
    const length = [...value].length;
    if (length > opts.maxLength) {
      fail('invalid_content', `${what} field "${field}" is ${length} characters; the limit is ${opts.maxLength}`, { field, length, limit: opts.maxLength });
    }
  }
  return value;
}
