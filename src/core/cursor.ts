// Sync cursors: `<epoch>.<seq>`. Clients treat them as opaque; the server checks them strictly.
import { fail } from './errors.js';

export { formatCursor } from '../protocol/sync-protocol.js';

/**
 * Parses a cursor against the current epoch and the user's last sequence number.
 * A missing cursor means "from the start". A cursor from another epoch is `cursor_expired`
 * (the server was restored: the device must reconcile); a malformed or future one is `bad_cursor`.
 */
export function parseCursor(cursor: string | undefined, epoch: number, lastSeq: number): number {
  if (cursor === undefined || cursor === '') return 0;
  const m = /^(\d{1,15})\.(\d{1,15})$/.exec(cursor);
  if (!m) fail('bad_cursor', `cursor "${cursor.slice(0, 40)}" is not of the form <epoch>.<seq>`);
  const e = Number(m[1]);
  const seq = Number(m[2]);
  if (e !== epoch) {
    fail('cursor_expired', `cursor is from epoch ${e} but the server is at epoch ${epoch}: reconcile, then sync from the start`, {
      epoch,
    });
  }
  if (seq > lastSeq) fail('bad_cursor', `cursor ${cursor} is ahead of the server (last sequence ${lastSeq})`);
  return seq;
}
