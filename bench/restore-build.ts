// Builds the restore benchmark's repository into a directory and keeps it, for profiling restores of
// the same content again and again (not part of npm test).
// Run: node dist/bench/restore-build.js DIR [--quick]   → DIR/repo (Keepsake backup), DIR/plain (same content as files)
// Then e.g.: node --cpu-prof dist/src/cli/main.js restore --from DIR/repo --data /tmp/x --all
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { openRepository } from '../src/backup/repository.js';
import { openFileTarget } from '../src/backup/targets/file/file-target.js';
import { RestoreFixture } from './restore-fixture.js';

const dir = resolve(process.argv[2] ?? 'restore-fixture');
const quick = process.argv.includes('--quick');
const users = quick ? 1_000 : 10_000;
await mkdir(dir, { recursive: true });
const repo = await openRepository(await openFileTarget(join(dir, 'repo')), { key: null });
const fixture = new RestoreFixture(repo, join(dir, 'repo'), {
  exportDir: join(dir, 'plain'),
  itemsPerUser: 24,
  photoBytes: quick ? 100 * 1024 ** 2 : 1024 ** 3,
  photoSize: 2 * 1024 ** 2,
});
const t0 = performance.now();
const big = await fixture.addBigUser('big', 5_000);
for (let n = 0; n < users; n += 1000) await fixture.addUsers(Math.min(1000, users - n));
console.log(`built ${users} users + big (${big}) in ${((performance.now() - t0) / 1000).toFixed(1)} s into ${dir}`);
