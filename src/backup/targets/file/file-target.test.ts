// Runs the backup-target contract against the directory target, plus file-specific checks.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, describe, it } from 'node:test';
import { describeBackupTarget } from '../target.contract.js';
import { openFileTarget } from './file-target.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function freshDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'keepsake-target-'));
  dirs.push(d);
  return d;
}

describeBackupTarget('file', { open: () => openFileTarget(join(freshDir(), 'repo')) });

describe('FileTarget', () => {
  it('accepts file:// URLs and leaves no temp files behind', async () => {
    const dir = freshDir();
    const sut = await openFileTarget(pathToFileURL(join(dir, 'r')).href);
    assert.equal(sut.localPath(), join(dir, 'r'));
    await sut.putIfAbsent('x/y', new Uint8Array([1, 2, 3]));
    await sut.putIfAbsent('x/y', new Uint8Array([4]));
    assert.deepEqual(readdirSync(join(dir, 'r', '.tmp')), []);
  });
});
