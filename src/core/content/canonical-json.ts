// Canonical JSON: one text per value whatever the key order, so equal content hashes equal.

/** A JSON value as stored for the object kinds. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/**
 * JSON text with object keys sorted by UTF-16 code unit at every level and no whitespace.
 * Numbers use JavaScript's shortest round-trip form (`-0` becomes `0`). Same approach as
 * RFC 8785 (JCS) for the values Keepsake stores: strings, finite numbers, flat objects.
 */
export function canonicalJson(value: JsonValue): string {
  if (Array.isArray(value)) return '[' + value.map(canonicalJson).join(',') + ']';
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value).sort();
    return '{' + keys.map((k) => JSON.stringify(k) + ':' + canonicalJson(value[k])).join(',') + '}';
  }
  if (typeof value === 'number' && !Number.isFinite(value)) throw new RangeError('canonicalJson: non-finite number');
  return JSON.stringify(value);
}
