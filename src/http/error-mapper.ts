// The HTTP transport's one error path: domain codes and framework errors to status + JSON body.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { asKeepsakeError, type ErrorCode } from '../core/errors.js';

const STATUS: Record<ErrorCode, number> = {
  invalid_request: 400,
  invalid_json: 400,
  body_too_large: 413,
  batch_too_large: 413,
  invalid_id: 400,
  invalid_vcard: 422,
  invalid_icalendar: 422,
  uid_mismatch: 422,
  invalid_content: 422,
  unknown_kind: 400,
  collection_not_found: 404,
  collection_exists: 409,
  item_not_found: 404,
  revision_not_found: 404,
  not_found: 404,
  blob_hash_mismatch: 400,
  blob_too_large: 413,
  blob_type_unsupported: 415,
  blob_missing: 422,
  bad_cursor: 400,
  cursor_expired: 410,
  mass_delete_guard: 409,
  unauthorized: 401,
  forbidden: 403,
  rate_limited: 429,
  user_exists: 409,
  user_not_found: 404,
  invalid_config: 500,
  restore_out_of_range: 422,
  restoring: 503,
  unavailable: 503,
  storage_full: 507, // RFC 4918 §11.5 Insufficient Storage
  internal: 500,
  // DAV codes (src/dav/dav-errors.ts adds the DAV:error bodies).
  invalid_xml: 400,
  precondition_failed: 412,
  invalid_sync_token: 403,
  unsupported_report: 403,
  depth_not_supported: 403,
  method_not_allowed: 405,
  parent_missing: 409,
};

export function statusOf(code: ErrorCode): number {
  return STATUS[code];
}

/** Maps any error to `{ error: { code, message, details? } }` with the right status. */
export function handleError(err: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): void {
  const known = asKeepsakeError(err); // a KeepsakeError, or a full disk seen as one
  if (known) {
    const status = STATUS[known.code];
    if (typeof known.details?.retryAfter === 'number') reply.header('retry-after', String(known.details.retryAfter));
    if (known.code === 'unauthorized') reply.header('www-authenticate', 'Bearer realm="keepsake", Basic realm="keepsake"');
    if (status >= 500) request.log.error({ err: known }, 'request failed');
    reply.status(status).send({ error: { code: known.code, message: known.message, ...(known.details ? { details: known.details } : {}) } });
    return;
  }
  const fe = err as FastifyError;
  const framework: Record<string, [number, ErrorCode]> = {
    FST_ERR_CTP_BODY_TOO_LARGE: [413, 'body_too_large'],
    FST_ERR_CTP_INVALID_JSON_BODY: [400, 'invalid_json'],
    FST_ERR_CTP_EMPTY_JSON_BODY: [400, 'invalid_json'],
    FST_ERR_CTP_INVALID_MEDIA_TYPE: [415, 'invalid_request'],
    FST_ERR_CTP_INVALID_CONTENT_LENGTH: [400, 'invalid_request'],
  };
  const mapped = fe.code ? framework[fe.code] : undefined;
  if (mapped) {
    reply.status(mapped[0]).send({ error: { code: mapped[1], message: fe.message } });
    return;
  }
  if (fe instanceof SyntaxError || (fe.statusCode === 400 && /JSON/i.test(fe.message))) {
    reply.status(400).send({ error: { code: 'invalid_json', message: `body is not valid JSON: ${fe.message}` } });
    return;
  }
  if (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500) {
    reply.status(fe.statusCode).send({ error: { code: 'invalid_request', message: fe.message } });
    return;
  }
  request.log.error({ err }, 'unexpected error');
  reply.status(500).send({ error: { code: 'internal', message: 'unexpected server error; the failing operation changed nothing' } });
}
