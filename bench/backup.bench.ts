// Backup benchmark: lag p50/p99 and write throughput with backup on vs off under the foundation
// write load; `verify --full` throughput on a generated repository vs `restic check --read-data`.
// Usage: node dist/bench/backup.bench.js [--quick] [--verify-only | --write-only] [--runs N] [--seconds S] [--rate W] [--users N] [--photos-mb M] [--repo-dir DIR]
// (--rate: paced write load of W writes/s in all, for comparing CPU per write with backup on and off)
// (--repo-dir: build the verify repositories there once and reuse them on later runs, e.g. to profile)
import { spawnSync } from 'node:child_process';
import { randomBytes, createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openFileTarget } from '../src/backup/targets/file/file-target.js';
import { openRepository } from '../src/backup/repository.js';
import { BackupShipper } from '../src/backup/shipper.js';
import { verifyRepository } from '../src/backup/verify.js';
import { contentHash } from '../src/core/hash.js';
import { openFsBlobStore } from '../src/store/blobs-fs/blob-store.js';
import { MemoryRecordStore } from '../src/store/memory/record-store.js';
import { type Device, Http, makeChange, percentile } from './load.js';
import { SegmentLagWatch } from './segment-watch.js';
import { CLI, cli, startServer } from './server-process.js';

const basic = (name: string, pw: string) => ({ authorization: 'Basic ' + Buffer.from(`${name}:${pw}`).toString('base64') });
const KINDS = ['contacts', 'calendar', 'tasks', 'notes', 'scores'] as const;

interface WriteRun {
  backup: boolean;
  itemsPerSecond: number;
  lagP50ms: number | null;
  lagP99ms: number | null;
  lagMaxMs: number | null;
  writes: number;
  /** Server CPU time (user + system, all threads) per acknowledged write, in µs, from the first write until every write is shipped. */
  cpuPerWriteUs: number;
  /** The same for the server's main (serving) thread alone. */
  mainCpuPerWriteUs: number;
  /** The server's peak resident set size, MB. */
  peakMb: number;
}

/** CPU seconds (user + system) of a process so far, every thread and its main thread alone, from /proc. */
function cpuSeconds(pid: number): { all: number; main: number } {
  const read = (path: string) => {
    const stat = readFileSync(path, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  };
  return { all: read(`/proc/${pid}/stat`), main: read(`/proc/${pid}/task/${pid}/stat`) };
}

/** 10 users × 5 devices pushing single changes for `seconds` (the foundation "50 devices" load). */
/**
 * `rate` > 0 paces the devices to that many writes per second in all (else as fast as they get
 * answers): the same writes with backup on and off, so CPU per write compares like with like.
 */
async function writeLoad(backup: boolean, seconds: number, rate = 0): Promise<WriteRun> {
  const dir = await mkdtemp(join(tmpdir(), `keepsake-bench-backup-${backup ? 'on' : 'off'}-`));
  const repoDir = join(dir, 'backup');
  const args = ['--data', join(dir, 'data'), ...(backup ? ['--backup', repoDir] : [])];
  cli(['user', 'add', 'admin', '--admin', '--password-stdin', ...args.slice(0, 2)], 'admin-password\n');
  const server = await startServer(args);
  const http = new Http(server.url);
  // When each acknowledged write's segment lands on the target.
  const lagWatch = backup ? new SegmentLagWatch(repoDir) : null;
  try {
    const adminTok = (await http.json('POST', '/api/v1/tokens', { device: 'bench' }, basic('admin', 'admin-password'))).token;
    const devices: Array<Device & { user: string }> = [];
    const userIds = new Map<string, string>();
    for (let u = 0; u < 10; u++) {
      const created = await http.json('POST', '/api/v1/admin/users', { name: `user${u}`, password: 'bench-password' }, { authorization: `Bearer ${adminTok}` });
      userIds.set(`user${u}`, created.id ?? created.user?.id);
      for (let d = 0; d < 5; d++) {
        const t = await http.json('POST', '/api/v1/tokens', { device: `dev${d}` }, basic(`user${u}`, 'bench-password'));
        devices.push({ token: t.token, n: 0, user: created.id ?? created.user?.id });
      }
    }
    let writes = 0;
    const cpuStart = cpuSeconds(server.child.pid!);
    const start = performance.now();
    const end = start + seconds * 1000;
    const interval = rate > 0 ? (devices.length * 1000) / rate : 0;
    await Promise.all(
      devices.map(async (dev, i) => {
        let sent = 0;
        while (performance.now() < end) {
          if (interval > 0) {
            const due = start + sent++ * interval + (interval * i) / devices.length;
            const wait = due - performance.now();
            if (wait > 0) await new Promise((r) => setTimeout(r, wait));
            if (performance.now() >= end) break;
          }
          const kind = KINDS[dev.n++ % KINDS.length];
          const change = makeChange(kind, dev.n);
          const r = await http.json('POST', '/api/v1/changes', { changes: [change] }, { authorization: `Bearer ${dev.token}` });
          writes++;
          const item = r.results?.[0]?.item;
          if (lagWatch && item) lagWatch.acked(dev.user, item.version);
        }
      }),
    );
    const writeSeconds = seconds;
    if (lagWatch) {
      const deadline = performance.now() + 30_000;
      while (lagWatch.waiting && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    }
    const cpuEnd = cpuSeconds(server.child.pid!);
    const cpuPerWriteUs = ((cpuEnd.all - cpuStart.all) / writes) * 1e6;
    const mainCpuPerWriteUs = ((cpuEnd.main - cpuStart.main) / writes) * 1e6;
    const sorted = (lagWatch?.lags ?? []).sort((a, b) => a - b);
    return {
      backup,
      itemsPerSecond: writes / writeSeconds,
      writes,
      lagP50ms: backup ? percentile(sorted, 50) : null,
      lagP99ms: backup ? percentile(sorted, 99) : null,
      lagMaxMs: backup ? sorted.at(-1) ?? 0 : null,
      cpuPerWriteUs,
      mainCpuPerWriteUs,
      peakMb: server.memory().peakMb,
    };
  } finally {
    lagWatch?.close();
    await http.close();
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

interface VerifyRun {
  users: number;
  photoMB: number;
  repoMB: number;
  repoObjects: number;
  buildSeconds: number;
  /** `keepsake backup verify --full` wall seconds per run, and the median. */
  verifySeconds: number[];
  verifyMBps: number;
  ok: boolean;
  restic: { seconds: number[]; MBps: number; repoMB: number } | null;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];

/** Runs a command, returning its wall time in seconds; throws on a non-zero exit. */
function timed(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): { seconds: number; stdout: string } {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { env, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  const seconds = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr.slice(-2000)}`);
  return { seconds, stdout: r.stdout };
}

/**
 * Builds a repository of `users` users (one item of each of five kinds each) and `photoMB` 1 MiB
 * photos with the real shipper, and a restic repository of the same content (each user's changes
 * as a JSON file, each photo as a file). Then runs `keepsake backup verify --full` and `restic
 * check --read-data` alternately, `runs` times each, both as child processes reading the same
 * disk: MB/s is each repository's size over the median wall time.
 */
async function verifyThroughput(users: number, photoMB: number, runs: number, keepDir: string | null): Promise<VerifyRun> {
  const dir = keepDir ?? (await mkdtemp(join(tmpdir(), 'keepsake-bench-verify-')));
  const reuse = keepDir !== null && existsSync(join(keepDir, 'built'));
  try {
    const started = performance.now();
    if (!reuse) await buildRepositories(dir, users, photoMB);
    const buildSeconds = (performance.now() - started) / 1000;
    const repoDir = join(dir, 'repo');
    const repo = await openRepository(await openFileTarget(repoDir), { key: null, create: false });
    let repoBytes = 0;
    let repoObjects = 0;
    for await (const o of repo.target.list('')) {
      repoBytes += o.size;
      repoObjects++;
    }
    let restic: VerifyRun['restic'] = null;
    const env = resticEnv(dir);
    const haveRestic = existsSync(join(dir, 'restic'));
    spawnSync('sync');
    const verifySeconds: number[] = [];
    const resticSeconds: number[] = [];
    let ok = true;
    for (let r = 0; r < runs; r++) {
      const v = timed(process.execPath, [CLI, 'backup', 'verify', '--full', '--json', '--backup', repoDir]);
      verifySeconds.push(v.seconds);
      ok &&= (JSON.parse(v.stdout) as Array<{ ok: boolean }>).every((x) => x.ok);
      if (haveRestic) resticSeconds.push(timed('restic', ['check', '--read-data', '--quiet'], env).seconds);
    }
    if (haveRestic) {
      const du = spawnSync('du', ['-sb', join(dir, 'restic')], { encoding: 'utf8' });
      const mb = Number(du.stdout.split('\t')[0]) / 1024 / 1024;
      restic = { seconds: resticSeconds, MBps: mb / median(resticSeconds), repoMB: mb };
    }
    const repoMB = repoBytes / 1024 / 1024;
    return { users, photoMB, repoMB, repoObjects, buildSeconds, verifySeconds, verifyMBps: repoMB / median(verifySeconds), ok, restic };
  } finally {
    if (keepDir === null) await rm(dir, { recursive: true, force: true });
  }
}

const resticEnv = (dir: string) => ({ ...process.env, RESTIC_PASSWORD: 'bench', RESTIC_REPOSITORY: join(dir, 'restic'), RESTIC_CACHE_DIR: join(dir, 'restic-cache') });

/** Builds the Keepsake repository (`dir/repo`) and, when restic is installed, the restic one (`dir/restic`). */
async function buildRepositories(dir: string, users: number, photoMB: number): Promise<void> {
  const store = new MemoryRecordStore();
  const blobs = await openFsBlobStore(join(dir, 'blobs'));
  const plain = join(dir, 'plain'); // the same content as plain files, for restic
  await mkdir(plain, { recursive: true });
  const ids: string[] = [];
  for (let u = 0; u < users; u++) {
    const user = await store.createUser(
      { id: `u${String(u).padStart(6, '0')}`, name: `user${u}`, passwordHash: 'scrypt$x', admin: false, createdAt: new Date().toISOString(), deletedAt: null },
      KINDS.map((k) => ({ id: k, kind: k, name: k })),
    );
    ids.push(user.id);
    const changes = KINDS.map((k, i) => {
      const c = makeChange(k, u * 10 + i) as { changeId: string; collection: string; id: string; content: unknown };
      const content = typeof c.content === 'string' ? c.content : JSON.stringify(c.content);
      return { changeId: c.changeId, collection: k, id: c.id, baseVersion: null, deleted: false, content, hash: contentHash(content) };
    });
    await store.applyChanges(user.id, changes, new Date().toISOString());
    await writeFile(join(plain, `${user.id}.json`), JSON.stringify(changes));
  }
  for (let p = 0; p < photoMB; p++) {
    const bytes = randomBytes(1024 * 1024);
    const hash = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    await blobs.put(hash, (async function* () {
      yield bytes;
    })(), { maxBytes: 2 * 1024 * 1024 });
    await store.addBlobRef(ids[p % ids.length], hash);
    await writeFile(join(plain, `${hash.slice(7)}.jpg`), bytes);
  }
  const repoDir = join(dir, 'repo');
  const repo = await openRepository(await openFileTarget(repoDir), { key: null });
  // Many users at once: each object costs two fsyncs, which overlap well.
  await new BackupShipper(store, blobs, [repo], { parallelUsers: 32 }).passOnce(false);
  const env = resticEnv(dir);
  if (spawnSync('restic', ['version']).status === 0) {
    timed('restic', ['init', '--quiet'], env);
    timed('restic', ['backup', '--quiet', plain], env);
  }
  await rm(plain, { recursive: true, force: true });
  await rm(join(dir, 'blobs'), { recursive: true, force: true });
  await writeFile(join(dir, 'built'), new Date().toISOString());
}

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const quick = process.argv.includes('--quick');
const verifyOnly = process.argv.includes('--verify-only');
const seconds = arg('--seconds', quick ? 5 : 15);
const runs = arg('--runs', 3);
const rate = arg('--rate', 0);
const offRuns: WriteRun[] = [];
const onRuns: WriteRun[] = [];
if (!verifyOnly) {
  // Alternate off and on so that load from elsewhere on the machine hits both alike.
  for (let r = 0; r < runs; r++) {
    offRuns.push(await writeLoad(false, seconds, rate));
    onRuns.push(await writeLoad(true, seconds, rate));
  }
}
const keepAt = process.argv.indexOf('--repo-dir');
const writeOnly = process.argv.includes('--write-only');
const verify = writeOnly ? null : await verifyThroughput(arg('--users', quick ? 1000 : 10_000), arg('--photos-mb', quick ? 100 : 1024), runs, keepAt >= 0 ? process.argv[keepAt + 1] : null);

const f = (n: number | null | undefined, d = 0) => (n === null || n === undefined ? '—' : n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }));
const med = (runs: WriteRun[], k: 'itemsPerSecond' | 'lagP50ms' | 'lagP99ms' | 'lagMaxMs' | 'cpuPerWriteUs' | 'mainCpuPerWriteUs' | 'peakMb') => (runs.length ? median(runs.map((r) => r[k] ?? 0)) : null);
const kept = offRuns.map((o, i) => (onRuns[i].itemsPerSecond / o.itemsPerSecond) * 100);
const cpuRatio = offRuns.map((o, i) => onRuns[i].cpuPerWriteUs / o.cpuPerWriteUs);
const mainRatio = offRuns.map((o, i) => onRuns[i].mainCpuPerWriteUs / o.mainCpuPerWriteUs);
console.log(`\nKeepsake backup benchmark (${quick ? 'quick' : 'full'}; node ${process.version}; ${runs} run(s) each, medians; target on the same local disk)`);
const rows: Array<[string, string]> = [
  ['writes/s, 50 devices, backup off', `${f(med(offRuns, 'itemsPerSecond'))}  (runs: ${offRuns.map((r) => f(r.itemsPerSecond)).join(', ')})`],
  ['writes/s, 50 devices, backup on', `${f(med(onRuns, 'itemsPerSecond'))}  (runs: ${onRuns.map((r) => f(r.itemsPerSecond)).join(', ')})`],
  ['throughput kept with backup on (median of pairs)', kept.length ? `${f(median(kept))} %  (pairs: ${kept.map((k) => f(k)).join(', ')} %)` : '—'],
  ['server CPU µs per write, backup off', `${f(med(offRuns, 'cpuPerWriteUs'))}  (runs: ${offRuns.map((r) => f(r.cpuPerWriteUs)).join(', ')})`],
  ['server CPU µs per write, backup on', `${f(med(onRuns, 'cpuPerWriteUs'))}  (runs: ${onRuns.map((r) => f(r.cpuPerWriteUs)).join(', ')})`],
  ['main-thread CPU µs per write, off / on', `${f(med(offRuns, 'mainCpuPerWriteUs'))} / ${f(med(onRuns, 'mainCpuPerWriteUs'))}  (pairs: ${offRuns.map((o, i) => `${f(o.mainCpuPerWriteUs)}/${f(onRuns[i].mainCpuPerWriteUs)}`).join(', ')})`],
  ['CPU per write on / off (median of pairs)', cpuRatio.length ? `${f(median(cpuRatio), 2)}×  (pairs: ${cpuRatio.map((k) => f(k, 2)).join(', ')})` : '—'],
  ['main-thread CPU per write on / off (median of pairs)', mainRatio.length ? `${f(median(mainRatio), 2)}×  (pairs: ${mainRatio.map((k) => f(k, 2)).join(', ')})` : '—'],
  ['server peak RSS MB, off / on', `${f(med(offRuns, 'peakMb'))} / ${f(med(onRuns, 'peakMb'))}`],
  ['backup lag p50 / p99 / max ms', `${f(med(onRuns, 'lagP50ms'), 1)} / ${f(med(onRuns, 'lagP99ms'), 1)} / ${f(med(onRuns, 'lagMaxMs'), 1)}`],
];
if (verify) {
  rows.push(
    [
      `verify --full: ${f(verify.users)} users, ${f(verify.photoMB)} MiB photos`,
      `${f(verify.repoMB)} MiB, ${f(verify.repoObjects)} objects, median ${f(median(verify.verifySeconds), 2)} s = ${f(verify.verifyMBps)} MB/s (${verify.ok ? 'ok' : 'PROBLEMS'}; runs ${verify.verifySeconds.map((s) => f(s, 2)).join(', ')} s)`,
    ],
    [
      'restic check --read-data, same content',
      verify.restic
        ? `${f(verify.restic.repoMB)} MiB, median ${f(median(verify.restic.seconds), 2)} s = ${f(verify.restic.MBps)} MB/s (runs ${verify.restic.seconds.map((s) => f(s, 2)).join(', ')} s)`
        : 'restic not installed',
    ],
    ['verify --full vs restic', verify.restic ? `${f(verify.verifyMBps / verify.restic.MBps, 2)}×` : '—'],
  );
}
const width = Math.max(...rows.map((r) => r[0].length));
for (const [k, v] of rows) console.log(`${k.padEnd(width)}  ${v}`);
if (verify) console.log(`(repository build ${f(verify.buildSeconds, 1)} s, not timed above)`);
writeFileSync('bench-backup-results.json', JSON.stringify({ at: new Date().toISOString(), quick, runs, off: offRuns, on: onRuns, verify }, null, 2));
console.log('\nwrote bench-backup-results.json');
