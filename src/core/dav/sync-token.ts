// RFC 6578 sync tokens drawn from the change log: they name the server, its epoch and a sequence number.
import { fail } from '../errors.js';
import type { ServerIdentity } from '../ports/record-store.js';

const PREFIX = 'urn:keepsake:sync:';

/** `urn:keepsake:sync:<server id>:<epoch>:<seq>` — a URI, as RFC 6578 §6.2 requires. */
export function formatSyncToken(server: ServerIdentity, seq: number): string {
  return `${PREFIX}${server.id}:${server.epoch}:${seq}`;
}

/**
 * The sequence number a client's token stands for; an empty token means "from the start".
 * A token from another server or epoch (the store was restored or replaced), malformed, or
 * ahead of the log fails with `invalid_sync_token`: RFC 6578 §3.2 has the server answer
 * DAV:valid-sync-token, and the client then does a full resync instead of missing changes.
 */
export function parseSyncToken(token: string, server: ServerIdentity, lastSeq: number): number {
  const t = token.trim();
  if (t === '') return 0;
  const m = /^urn:keepsake:sync:([0-9a-f-]{1,64}):(\d{1,15}):(\d{1,15})$/.exec(t);
  if (!m) fail('invalid_sync_token', 'the sync token is not one this server issued; sync again without a token');
  if (m[1] !== server.id || Number(m[2]) !== server.epoch) {
    fail('invalid_sync_token', `the sync token is from before the server was restored (epoch ${m[2]}, now ${server.epoch}); sync again without a token`, {
      epoch: server.epoch,
    });
  }
  const seq = Number(m[3]);
  if (seq > lastSeq) fail('invalid_sync_token', 'the sync token is ahead of the server; sync again without a token');
  return seq;
}
