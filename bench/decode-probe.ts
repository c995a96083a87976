// Probe (not part of npm test): a bulk restore's decoding work for every user of a kept fixture
// (bench/restore-build.ts), on one thread with nothing else running, so that its cost per user can
// be compared between builds without the noise of a whole restore. Prints µs per user per step.
// Run: node dist/bench/decode-probe.js DIR/repo [ROUNDS]
import { serialize } from 'node:v8';
import { openRepository } from '../src/backup/repository.js';
import { openFileTarget } from '../src/backup/targets/file/file-target.js';
import { DEFAULT_PRIORITY } from '../src/core/restore/restore-plan.js';
import { blockingReads } from '../src/restore/blocking-reads.js';
import { decodeCategory } from '../src/restore/fresh-rows.js';
import { listUsersSync, userKeysSync } from '../src/restore/list-users.js';
import { planUser } from '../src/restore/plan-user.js';
import { BackupRepository } from '../src/backup/repository.js';

const [repoDir, roundsArg] = process.argv.slice(2);
const opened = await openRepository(await openFileTarget(repoDir), { key: null, create: false });
const repo = new BackupRepository(blockingReads(opened.target)!, opened.config, null);
const scope = { userIds: [], categories: [...DEFAULT_PRIORITY], priority: [...DEFAULT_PRIORITY] };
const keys = userKeysSync(repo)!;
for (let round = 0; round < Number(roundsArg ?? 3); round++) {
  const t = { list: 0, plan: 0, rows: 0, pack: 0 };
  let bytes = 0;
  let t0 = performance.now();
  const indexes = [...listUsersSync(repo, keys).values()];
  t.list = performance.now() - t0;
  for (const index of indexes) {
    t0 = performance.now();
    const r = await planUser(repo, index, scope, true);
    const t1 = performance.now();
    t.plan += t1 - t0;
    if (!r.state || !r.user) continue;
    const units = [];
    for (const kind of DEFAULT_PRIORITY) if (r.user.kinds.has(kind)) units.push({ userId: index.userId, name: r.user.name, category: decodeCategory(r.state, kind) });
    const t2 = performance.now();
    t.rows += t2 - t1;
    bytes += serialize(units).byteLength;
    t.pack += performance.now() - t2;
  }
  const per = (ms: number) => ((ms * 1000) / indexes.length).toFixed(1);
  console.log(`round ${round}: ${indexes.length} users; µs per user: list ${per(t.list)}, read+replay ${per(t.plan)}, validate+rows ${per(t.rows)}, serialize ${per(t.pack)} (${(bytes / 1e6).toFixed(0)} MB)`);
}
