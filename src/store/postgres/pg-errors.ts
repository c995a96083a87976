// Classifies PostgreSQL errors: which ones a transaction may retry, and which mean "store unavailable".
import { KeepsakeError, isKeepsakeError } from '../../core/errors.js';

/** SQLSTATE of a `pg` error, if it has one. */
export function sqlState(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** serialization_failure and deadlock_detected: the whole transaction can simply run again. */
export function isRetryable(e: unknown): boolean {
  const code = sqlState(e);
  return code === '40001' || code === '40P01';
}

/** The constraint named in a unique/foreign-key violation, if any. */
export function violatedConstraint(e: unknown, state: '23505' | '23503'): string | null {
  if (sqlState(e) !== state) return null;
  const c = (e as { constraint?: unknown }).constraint;
  return typeof c === 'string' ? c : '';
}

const UNAVAILABLE_STATES = /^(08|53|57P0[1-3])/; // connection exceptions, insufficient resources, shutdown
const UNAVAILABLE_NODE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH']);

/**
 * Turns "cannot reach the database" into the domain's `unavailable` error (clients retry it);
 * domain errors and every other error pass through unchanged.
 */
export function toStoreError(e: unknown): unknown {
  if (isKeepsakeError(e)) return e;
  const code = sqlState(e);
  const message = e instanceof Error ? e.message : String(e);
  if ((code && (UNAVAILABLE_STATES.test(code) || UNAVAILABLE_NODE.has(code))) || /Connection terminated|timeout exceeded when trying to connect/.test(message)) {
    return new KeepsakeError('unavailable', `PostgreSQL is unavailable: ${message}`, { cause: e });
  }
  return e;
}
