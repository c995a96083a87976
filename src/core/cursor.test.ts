// Sync cursors and DAV sync tokens: read back what the server issued, refuse the rest (core/cursor.ts, core/dav/sync-token.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatSyncToken, parseSyncToken } from './dav/sync-token.js';
import { formatCursor, parseCursor } from './cursor.js';

const code = (fn: () => unknown): string | undefined => {
  try {
    fn();
    return undefined;
  } catch (e) {
    return (e as { code?: string }).code;
  }
};

describe('cursors and sync tokens', () => {
  // A store rebuilt from a backup takes an epoch above the time in milliseconds (13 digits).
  const restored = 1_765_158_123_456;
  const server = { id: '2f0c9a55-0d3e-4c4b-9d1e-6a1f3f5b7c10', epoch: restored, createdAt: '2026-12-08T00:00:00.000Z' };

  it('a cursor of a restored store (a 13-digit epoch) is read back; another epoch, a malformed one or one ahead is refused', () => {
    assert.equal(parseCursor(formatCursor(restored, 42), restored, 50), 42);
    assert.equal(parseCursor(formatCursor(1, 42), 1, 50), 42);
    assert.equal(code(() => parseCursor(formatCursor(2, 42), restored, 50)), 'cursor_expired');
    assert.equal(code(() => parseCursor(formatCursor(restored, 51), restored, 50)), 'bad_cursor');
    assert.equal(code(() => parseCursor('1.2.3', restored, 50)), 'bad_cursor');
    assert.equal(code(() => parseCursor(`${'9'.repeat(16)}.1`, restored, 50)), 'bad_cursor');
  });

  it('a sync token of a restored store is read back; one from another epoch or server is refused', () => {
    assert.equal(parseSyncToken(formatSyncToken(server, 7), server, 9), 7);
    assert.equal(code(() => parseSyncToken(formatSyncToken({ ...server, epoch: 2 }, 7), server, 9)), 'invalid_sync_token');
    assert.equal(code(() => parseSyncToken(formatSyncToken({ ...server, id: 'a0000000-0000-4000-8000-000000000000' }, 7), server, 9)), 'invalid_sync_token');
    assert.equal(code(() => parseSyncToken(formatSyncToken(server, 10), server, 9)), 'invalid_sync_token');
  });
});
