// The DAV transport's one error path: domain codes to a status and a DAV:error body naming the precondition.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { asKeepsakeError, type ErrorCode, isKeepsakeError } from '../core/errors.js';
import { statusOf } from '../http/error-mapper.js';
import { document, element, escapeXml, NS } from './xml.js';

/** Precondition elements that RFC 4918, 4791, 6352 and 6578 define for these failures. */
const PRECONDITION: Partial<Record<ErrorCode, [string, string]>> = {
  invalid_sync_token: [NS.dav, 'valid-sync-token'], // RFC 6578 §3.2
  unsupported_report: [NS.dav, 'supported-report'], // RFC 3253 §3.6
  depth_not_supported: [NS.dav, 'propfind-finite-depth'], // RFC 4918 §9.1
  invalid_vcard: [NS.carddav, 'valid-address-data'], // RFC 6352 §6.3.2.1
  invalid_icalendar: [NS.caldav, 'valid-calendar-data'], // RFC 4791 §5.3.2.1
  uid_mismatch: [NS.caldav, 'no-uid-conflict'], // RFC 4791 §5.3.2.1, RFC 6352 §6.3.2.1
  body_too_large: [NS.caldav, 'max-resource-size'],
  collection_exists: [NS.dav, 'resource-must-be-null'], // RFC 5689 §3.4
};

/** Writes the error as a DAV response; anything not a KeepsakeError is an internal error (logged). */
export function sendDavError(raw: unknown, request: FastifyRequest, reply: FastifyReply): void {
  const err = asKeepsakeError(raw) ?? raw;
  let code: ErrorCode = 'internal';
  let message = 'unexpected server error; the failing operation changed nothing';
  let status = 500;
  if (isKeepsakeError(err)) {
    code = err.code;
    message = err.message;
    status = statusOf(code);
    if (code === 'invalid_vcard' || code === 'invalid_icalendar' || code === 'uid_mismatch') status = 403;
  } else {
    request.log.error({ err }, 'DAV request failed');
  }
  if (code === 'unauthorized') reply.header('www-authenticate', 'Basic realm="Keepsake", charset="UTF-8"');
  if (isKeepsakeError(err) && typeof err.details?.retryAfter === 'number') reply.header('retry-after', String(err.details.retryAfter));
  const pre = PRECONDITION[code];
  const inner = (pre ? element(pre[0], pre[1]) : '') + element(NS.keepsake, 'code', code) + element(NS.keepsake, 'message', escapeXml(message));
  reply.status(status).header('content-type', 'application/xml; charset=utf-8').send(document(NS.dav, 'error', inner));
}
