// The photo copier's reads into reused buffers: exact bytes for any size, buffers handed out again
// only once given back, a missing object reported as such.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { BufferPool, readPooled } from '../../src/restore/buffer-pool.js';
import { tempDir } from '../backup/backup-helpers.js';

describe('pooled reads', () => {
  it('read every size exactly, reuse a buffer only once it is given back, and answer null for a missing file', () => {
    const dir = tempDir('keepsake-pool-');
    const pool = new BufferPool();
    const MiB = 1024 * 1024;
    for (const size of [0, 1, MiB - 1, MiB, MiB + 1, 3 * MiB + 5]) {
      const bytes = randomBytes(size);
      writeFileSync(join(dir, `f${size}`), bytes);
      const got = readPooled(join(dir, `f${size}`), pool)!;
      assert.ok(got.bytes.equals(bytes), `${size} bytes read back exactly`);
      got.release();
    }
    const a = readPooled(join(dir, `f${MiB}`), pool)!;
    const b = readPooled(join(dir, `f${MiB + 1}`), pool)!;
    assert.notEqual(a.bytes.buffer, b.bytes.buffer, 'a buffer in use is not handed out again');
    const bytesOfA = Buffer.from(a.bytes);
    b.release();
    const c = readPooled(join(dir, `f${MiB - 1}`), pool)!;
    assert.ok(a.bytes.equals(bytesOfA), 'reading another file left the unreleased one alone');
    assert.equal(c.bytes.buffer, b.bytes.buffer, 'a released buffer is reused');
    assert.equal(readPooled(join(dir, 'missing'), pool), null);
  });
});
