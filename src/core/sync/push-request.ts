// Structural validation of POST /api/v1/changes bodies (before any content is looked at).
import { MAX_BATCH, type PushChange, type PushRequest } from '../../protocol/sync-protocol.js';
import { fail } from '../errors.js';
import { checkId } from '../ids.js';

const CHANGE_FIELDS = new Set(['changeId', 'collection', 'id', 'baseVersion', 'deleted', 'content']);
const REQUEST_FIELDS = new Set(['changes', 'confirmMassDelete']);

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Checks the envelope: field names and types, ids, batch size. Any problem rejects the whole
 * request with `invalid_request`/`invalid_id`/`batch_too_large`, so nothing is stored. Problems
 * with one change's content are reported per change later.
 */
export function parsePushRequest(body: unknown): PushRequest {
  if (!isObject(body)) fail('invalid_request', 'body must be a JSON object with a "changes" array');
  for (const k of Object.keys(body)) if (!REQUEST_FIELDS.has(k)) fail('invalid_request', `unknown field "${k}"`, { field: k });
  const changes = body.changes;
  if (!Array.isArray(changes)) fail('invalid_request', '"changes" must be an array', { field: 'changes' });
  if (changes.length > MAX_BATCH) fail('batch_too_large', `${changes.length} changes in one request; at most ${MAX_BATCH}`);
  if (body.confirmMassDelete !== undefined && typeof body.confirmMassDelete !== 'boolean') {
    fail('invalid_request', '"confirmMassDelete" must be a boolean', { field: 'confirmMassDelete' });
  }
  const seen = new Set<string>();
  const parsed = changes.map((c, i): PushChange => {
    const at = `changes[${i}]`;
    if (!isObject(c)) fail('invalid_request', `${at} must be an object`, { field: at });
    for (const k of Object.keys(c)) if (!CHANGE_FIELDS.has(k)) fail('invalid_request', `unknown field "${at}.${k}"`, { field: `${at}.${k}` });
    const changeId = checkId(c.changeId, `${at}.changeId`);
    if (seen.has(changeId)) fail('invalid_request', `${at}.changeId "${changeId}" appears twice in this request`, { field: `${at}.changeId` });
    seen.add(changeId);
    const base = c.baseVersion;
    if (!(base === null || base === undefined || (Number.isSafeInteger(base) && (base as number) >= 0))) {
      fail('invalid_request', `${at}.baseVersion must be null or a non-negative integer`, { field: `${at}.baseVersion` });
    }
    if (c.deleted !== undefined && typeof c.deleted !== 'boolean') {
      fail('invalid_request', `${at}.deleted must be a boolean`, { field: `${at}.deleted` });
    }
    if (c.deleted === true && c.content !== undefined && c.content !== null) {
      fail('invalid_request', `${at} is a delete and must not carry content`, { field: `${at}.content` });
    }
    if (c.deleted !== true && (c.content === undefined || c.content === null)) {
      fail('invalid_request', `${at}.content is required unless "deleted" is true`, { field: `${at}.content` });
    }
    return {
      changeId,
      collection: checkId(c.collection, `${at}.collection`),
      id: checkId(c.id, `${at}.id`),
      baseVersion: (base as number | null | undefined) ?? null,
      deleted: c.deleted === true,
      content: c.content,
    };
  });
  return { changes: parsed, confirmMassDelete: body.confirmMassDelete === true };
}
