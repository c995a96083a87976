// Restore benchmark (issue 4): full restore throughput and time until contacts are back; single-user
// restore time with a small and a large repository; restic restore of the same content in the same run.
// Run: node dist/bench/restore.bench.js [--quick] [--rounds N]   (not part of npm test)
//   full:  10,000 users (24 mixed items each, 1 GiB of 2 MiB photos) + a 5,000-item user; grown to 50,000 users
//   quick:  1,000 users, 100 MiB of photos; grown to 5,000 users
import '../src/cli/threadpool.js'; // the libuv threadpool the CLI runs with (16), before any I/O
import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openRepository } from '../src/backup/repository.js';
import { openFileTarget } from '../src/backup/targets/file/file-target.js';
import type { RestoreReport } from '../src/restore/restore-executor.js';
import { fileURLToPath } from 'node:url';
import { RestoreFixture } from './restore-fixture.js';

const quick = process.argv.includes('--quick');
const SMALL = quick ? 1_000 : 10_000;
const LARGE = quick ? 5_000 : 50_000;
const PHOTO_BYTES = quick ? 100 * 1024 ** 2 : 1024 ** 3;
const BIG_USER_ITEMS = 5_000;
/**
 * Single-user restores per repository size (in rounds of 3, the sizes alternated). One alone
 * varies 108-228 ms on these machines, so a median of 3 could not tell 20 % apart.
 */
const RUNS = 9;
/** Alternated full restores of each system (`--rounds N`). */
const roundsArg = process.argv.indexOf('--rounds');
const FULL_ROUNDS = roundsArg > 0 ? Math.max(1, Number(process.argv[roundsArg + 1]) || 1) : 3;
const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));

const root = await mkdtemp(join(tmpdir(), 'keepsake-restore-bench-'));
const repoDir = join(root, 'repo');
const exportDir = join(root, 'plain');
const t = () => performance.now();
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const log = (msg: string) => console.error(`[${new Date().toISOString().slice(11, 19)}] ${msg}`);

try {
  const repo = await openRepository(await openFileTarget(repoDir), { key: null });
  const fixture = new RestoreFixture(repo, repoDir, { exportDir, itemsPerUser: 24, photoBytes: PHOTO_BYTES, photoSize: 2 * 1024 ** 2 });
  let t0 = t();
  const bigUser = await fixture.addBigUser('big', BIG_USER_ITEMS);
  for (let n = 0; n < SMALL; n += 1000) await fixture.addUsers(Math.min(1000, SMALL - n));
  log(`built and shipped ${SMALL} users in ${((t() - t0) / 1000).toFixed(1)} s`);

  /**
   * One user restored into an empty SQLite store and blob folder, as `keepsake restore --user`
   * does, `runs` times in a process of its own (bench/restore-one-user.ts); ms.
   */
  const ONE_USER = fileURLToPath(new URL('./restore-one-user.js', import.meta.url));
  function singleUserRuns(repo: string, runs: number): number[] {
    const r = spawnSync(process.execPath, [ONE_USER, repo, bigUser, String(runs), join(root, 'single')], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`single-user restore failed: ${r.stderr}`);
    return (JSON.parse(r.stdout) as { ms: number[] }).ms;
  }
  // The backup as it is now, kept beside the one that grows to LARGE users: hard links, since
  // backup objects are never rewritten (growing only adds files). Both sizes are then measured in
  // alternation at the end, under the same conditions: measured one after the other, minutes
  // apart, they differed by ±40 % either way with the machine's state.
  const smallRepoDir = join(root, 'repo-small');
  execFileSync('cp', ['-al', repoDir, smallRepoDir]);

  // Full restores, Keepsake's and restic's alternated `FULL_ROUNDS` times (the machine's speed
  // drifts within minutes; one run each compared noise). Keepsake: the CLI into an empty data
  // directory, as an operator runs it, its own process timed from start to exit. restic: the same
  // content as plain files (items as JSON text, photos as files), same disk. Each starts from a
  // disk with nothing left to write back (`sync` before): the backup just built, or the last
  // round's deletions, are still being written out, and a restore that fsyncs (Keepsake) would
  // wait for that where one that does not (restic) would not. Each is also timed until its data is
  // on disk (`sync` right after it): Keepsake's restore ends durable; restic's ends with its files
  // still in the page cache (it fsyncs none of them).
  const restoredDir = join(root, 'restored');
  const resticEnv = { ...process.env, RESTIC_PASSWORD: 'bench', RESTIC_REPOSITORY: join(root, 'restic') };
  const hasRestic = spawnSync('restic', ['version']).status === 0;
  let resticBackupMs = 0;
  if (hasRestic) {
    execFileSync('restic', ['init', '--quiet'], { env: resticEnv });
    const s = t();
    execFileSync('restic', ['backup', '--quiet', '.'], { env: resticEnv, cwd: exportDir });
    resticBackupMs = t() - s;
  }
  /** Runs `fn` from a synced disk; its time, and its time until a `sync` after it returns. */
  async function timedToDisk(fn: () => void): Promise<{ ms: number; durableMs: number }> {
    execFileSync('sync');
    const s = t();
    fn();
    const ms = t() - s;
    execFileSync('sync');
    return { ms, durableMs: t() - s };
  }
  const keepsakeRuns: Array<{ ms: number; durableMs: number }> = [];
  const resticRuns: Array<{ ms: number; durableMs: number }> = [];
  let report!: Omit<RestoreReport, 'quarantined'> & { quarantined: unknown[] };
  const contactsRuns: number[] = [];
  for (let round = 0; round < FULL_ROUNDS; round++) {
    keepsakeRuns.push(
      await timedToDisk(() => {
        const cli = spawnSync(process.execPath, [CLI, 'restore', '--from', repoDir, '--data', restoredDir, '--all', '--json'], { encoding: 'utf8', maxBuffer: 64 * 1024 ** 2 });
        if (cli.status !== 0) throw new Error(`keepsake restore failed (${cli.status}): ${cli.stderr.slice(-2000)}`);
        report = JSON.parse(cli.stdout);
      }),
    );
    const k = keepsakeRuns[round];
    // From the command's start until every user's contacts were back (planning included).
    contactsRuns.push(k.ms - (report.allBackMs - (report.contactsBackMs ?? 0)));
    log(`full restore ${(k.ms / 1000).toFixed(1)} s (on disk ${(k.durableMs / 1000).toFixed(1)} s)`);
    await rm(restoredDir, { recursive: true, force: true });
    if (!hasRestic) continue;
    const target = join(root, 'restic-out');
    resticRuns.push(await timedToDisk(() => execFileSync('restic', ['restore', 'latest', '--quiet', '--target', target], { env: resticEnv })));
    const r = resticRuns[round];
    log(`restic restore ${(r.ms / 1000).toFixed(1)} s (on disk ${(r.durableMs / 1000).toFixed(1)} s)`);
    await rm(target, { recursive: true, force: true });
  }
  const fullMs = median(keepsakeRuns.map((r) => r.ms));
  const contactsMs = median(contactsRuns);
  const repoBytes = Number(execFileSync('du', ['-sb', repoDir]).toString().split('\t')[0]);
  let restic: { backupMs: number; fullMs: number; durableMs: number; singleMs: number; runs: typeof resticRuns } | null = null;
  if (hasRestic) {
    const s = t();
    execFileSync('restic', ['restore', 'latest', '--quiet', '--include', '/big', '--target', join(root, 'restic-one')], { env: resticEnv });
    const singleMs = t() - s;
    restic = { backupMs: resticBackupMs, fullMs: median(resticRuns.map((r) => r.ms)), durableMs: median(resticRuns.map((r) => r.durableMs)), singleMs, runs: resticRuns };
    await rm(join(root, 'restic'), { recursive: true, force: true });
  }
  await rm(exportDir, { recursive: true, force: true });

  // Grow the repository and measure the single-user restore again.
  fixture.stopExport();
  t0 = t();
  for (let n = SMALL; n < LARGE; n += 5000) await fixture.addUsers(Math.min(5000, LARGE - n));
  log(`grew to ${LARGE} users in ${((t() - t0) / 1000).toFixed(1)} s`);
  const singleSmall: number[] = [];
  const singleLarge: number[] = [];
  execFileSync('sync'); // not while the repository just grown is still being written back
  for (let round = 0; round < RUNS / 3; round++) {
    singleSmall.push(...singleUserRuns(smallRepoDir, 3));
    singleLarge.push(...singleUserRuns(repoDir, 3));
  }
  log(`single user with ${SMALL} users: ${singleSmall.map((x) => x.toFixed(0)).join(', ')} ms`);
  log(`single user with ${LARGE} users: ${singleLarge.map((x) => x.toFixed(0)).join(', ')} ms`);

  const restored = report.items.inserted + report.items.replaced + report.items.unchanged + report.items.keptNewer;
  const rows: Array<[string, string]> = [
    [`keepsake restore --all: ${SMALL} users + 1 (${(PHOTO_BYTES / 1024 ** 2).toFixed(0)} MiB photos) into SQLite: s (median of ${FULL_ROUNDS})`, (fullMs / 1000).toFixed(2)],
    ['  runs: s', keepsakeRuns.map((r) => (r.ms / 1000).toFixed(1)).join(' / ')],
    ['  until on disk (+ sync): s', (median(keepsakeRuns.map((r) => r.durableMs)) / 1000).toFixed(2)],
    ['  items/s', Math.round(restored / (fullMs / 1000)).toString()],
    ['  MB/s of backup read', (repoBytes / 1e6 / (fullMs / 1000)).toFixed(1)],
    ["  time until every user's contacts were back: s", (contactsMs / 1000).toFixed(2)],
    ['  photos copied', String(report.blobs)],
    ['  quarantined', String(report.quarantined.length)],
    [`restic restore, full (same content): s (median of ${FULL_ROUNDS}, alternated)`, restic ? (restic.fullMs / 1000).toFixed(2) : 'n/a'],
    ['  runs: s', restic ? resticRuns.map((r) => (r.ms / 1000).toFixed(1)).join(' / ') : 'n/a'],
    ['  until on disk (+ sync): s', restic ? (restic.durableMs / 1000).toFixed(2) : 'n/a'],
    ['  keepsake / restic', restic ? (fullMs / restic.fullMs).toFixed(2) : 'n/a'],
    ['  keepsake / restic, until on disk', restic ? (median(keepsakeRuns.map((r) => r.durableMs)) / restic.durableMs).toFixed(2) : 'n/a'],
    [`single user (${BIG_USER_ITEMS} items), ${SMALL} users in repo: ms (median of ${RUNS})`, median(singleSmall).toFixed(0)],
    [`single user (${BIG_USER_ITEMS} items), ${LARGE} users in repo: ms (median of ${RUNS})`, median(singleLarge).toFixed(0)],
    ['  large / small', (median(singleLarge) / median(singleSmall)).toFixed(2)],
    ['restic restore, one user folder: ms', restic ? restic.singleMs.toFixed(0) : 'n/a'],
  ];
  const w = Math.max(...rows.map((r) => r[0].length));
  console.log(`\nKeepsake restore benchmark (${quick ? 'quick' : 'full'})`);
  for (const [k, v] of rows) console.log(k.padEnd(w) + '  ' + v.padStart(10));
  writeFileSync(
    'bench-restore-results.json',
    JSON.stringify({ at: new Date().toISOString(), quick, SMALL, LARGE, fullMs, contactsMs, keepsakeRuns, report: { ...report, quarantined: report.quarantined.length }, repoBytes, singleSmall, singleLarge, restic }, null, 2),
  );
} finally {
  await rm(root, { recursive: true, force: true });
}
