// What one durable write costs on this disk: the floor under a PUT that is answered only once fsynced.
// Run: npx tsc -p . && node dist/bench/fsync-probe.js [--dir DIR] [--n N] [--clients C]
// 1. append ~300 B + fdatasync / fsync in a loop (one sequential writer);
// 2. SQLite WAL commits with synchronous=FULL (fsync inside COMMIT: durable) and NORMAL (no fsync
//    per commit in WAL mode: NOT durable on its own, shown only for the difference);
// 3. C sequential writers sharing syncs the way WalSync does (one sync in flight, or three).
import Database from 'better-sqlite3';
import { closeSync, fdatasync, fdatasyncSync, fsyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';

const args = process.argv.slice(2);
const opt = (name: string, def: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : def);
const N = Number(opt('--n', '1000'));
const CLIENTS = Number(opt('--clients', '8'));
const dir = mkdtempSync(join(opt('--dir', process.cwd()), 'fsync-probe-'));
const record = Buffer.alloc(300, 'x');

function report(name: string, ms: number[]): void {
  ms.sort((a, b) => a - b);
  const q = (p: number) => ms[Math.floor(p * (ms.length - 1))].toFixed(2);
  const mean = ms.reduce((a, b) => a + b, 0) / ms.length;
  console.log(`${name.padEnd(44)} p50 ${q(0.5)} ms  p90 ${q(0.9)}  p99 ${q(0.99)}  mean ${mean.toFixed(2)} → at most ${(1000 / mean).toFixed(0)} acknowledged writes/s for one sequential client`);
}

for (const [name, sync] of [
  ['append 300 B + fdatasync', fdatasyncSync],
  ['append 300 B + fsync', fsyncSync],
] as const) {
  const fd = openSync(join(dir, name.replace(/\W/g, '')), 'a');
  const ms: number[] = [];
  for (let i = 0; i < N; i++) {
    const t = performance.now();
    writeSync(fd, record);
    sync(fd);
    ms.push(performance.now() - t);
  }
  closeSync(fd);
  report(name, ms);
}

for (const mode of ['FULL', 'NORMAL']) {
  const db = new Database(join(dir, `wal-${mode}.db`));
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${mode}`);
  db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT)');
  const insert = db.prepare('INSERT INTO t (body) VALUES (?)');
  const ms: number[] = [];
  for (let i = 0; i < N; i++) {
    const t = performance.now();
    insert.run(record.toString());
    ms.push(performance.now() - t);
  }
  db.close();
  report(`SQLite WAL commit, synchronous=${mode}${mode === 'NORMAL' ? ' (not durable)' : ''}`, ms);
}

/** C writers, each: append, then wait for a sync that started after its append. */
async function shared(inFlight: number): Promise<void> {
  const fd = openSync(join(dir, `shared-${inFlight}`), 'a');
  let committed = 0;
  let durable = 0;
  let syncs = 0;
  const running: number[] = [];
  let waiters: Array<{ point: number; resolve: () => void }> = [];
  const start = () => {
    while (running.length < inFlight && committed > (running.length ? running[running.length - 1] : durable)) {
      const target = committed;
      running.push(target);
      syncs++;
      fdatasync(fd, () => {
        running.splice(running.indexOf(target), 1);
        durable = Math.max(durable, target);
        const ready = waiters.filter((w) => w.point <= durable);
        waiters = waiters.filter((w) => w.point > durable);
        for (const w of ready) w.resolve();
        start();
      });
    }
  };
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      while (next++ < N) {
        await new Promise((r) => setImmediate(r));
        writeSync(fd, record);
        const point = ++committed;
        await new Promise<void>((resolve) => {
          waiters.push({ point, resolve });
          start();
        });
      }
    }),
  );
  closeSync(fd);
  const s = (performance.now() - t0) / 1000;
  console.log(`${CLIENTS} writers, ${inFlight} sync(s) in flight`.padEnd(44) + ` ${(N / s).toFixed(0)} acknowledged writes/s, ${(N / syncs).toFixed(2)} writes per sync`);
}
await shared(1);
await shared(3);
rmSync(dir, { recursive: true, force: true });
