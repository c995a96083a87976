// CardDAV benchmark: the same workload against Keepsake (SQLite) and Radicale, both on loopback.
// Run: npx tsc -p . && node dist/bench/carddav.bench.js [--puts N] [--radicale-puts N] [--contacts N] [--warmup N] [--systems keepsake,radicale]
// Both systems are driven by the same clients: the timed PUT loops by LeanHttpClient (one keep-alive
// connection per client, like a load generator), everything else by node:http with a keep-alive
// Agent. Radicale answers HTTP/1.0 and closes, so there both open a connection per request.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request as httpRequest } from 'node:http';
import { LeanHttpClient } from './lean-http-client.js';
import { cli, startServer } from './server-process.js';

interface Target {
  name: string;
  /** Address book URL, ending in `/`. */
  book: (name: string) => string;
  auth: string;
  pid: number;
  /** Makes an address book (Keepsake: extended MKCOL; Radicale: the same). */
  makeBook(name: string): Promise<void>;
  /** Puts `n` contacts into a book quickly, outside the timed part (Radicale: files on disk). */
  seed(name: string, n: number): Promise<void>;
  stop(): Promise<void>;
  /** Group-commit counters of the server (Keepsake: fsyncs and write calls so far), when it has them. */
  durability?(): Promise<{ fsyncs: number; writes: number }>;
}

interface Figures {
  system: string;
  puts1: number;
  put1PerSec: number;
  put1MeanMs: number;
  puts8: number;
  put8PerSec: number;
  /** Store write calls per WAL fsync during the PUT runs (Keepsake only): how well clients share fsyncs. */
  put1WritesPerFsync: number | null;
  /** CPU time (user + system) of the server process per PUT, 1 and 8 clients: robust to a busy machine, unlike PUT/s. */
  put1ServerCpuMs: number;
  put8ServerCpuMs: number;
  /** CPU time of this benchmark process (the client) per PUT with 1 and 8 clients. */
  put1ClientCpuMs: number;
  put8ClientCpuMs: number;
  put8WritesPerFsync: number | null;
  initialSyncMs: number;
  multiget1000Ms: number;
  incrementalSyncMs: number;
  rssMb: number;
}

const args = process.argv.slice(2);
const opt = (name: string, def: number) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const PUTS = opt('--puts', 10_000);
const RADICALE_PUTS = opt('--radicale-puts', 1_000);
const CONTACTS = opt('--contacts', 10_000);
/** Most warm-up PUTs before the timed runs (`--warmup`); each system gets a tenth of its measured PUTs, up to this. */
const WARMUP_MAX = opt('--warmup', 1_000);
const SYSTEMS = (args.includes('--systems') ? args[args.indexOf('--systems') + 1] : 'keepsake,radicale').split(',');

/**
 * Keep-alive connections for the untimed requests and the timed REPORTs; at most one request at a
 * time on each. The PUT loops use LeanHttpClient (lean-http-client.ts), which costs less still.
 * node:http rather than undici: undici's request() cost this process ~1 ms of CPU per PUT (node:http
 * ~0.3 ms), and on two cores shared with the server that CPU came out of the server's round trips:
 * with undici the client measured its own overhead as much as the server (drive of 2,000 PUTs, one
 * client, alternating: undici 203/s, node:http 545/s against the same Keepsake server).
 */
const agent = new Agent({ keepAlive: true, maxSockets: 16, keepAliveMsecs: 60_000 });

function card(uid: string, n: number): string {
  return `BEGIN:VCARD\r\nVERSION:3.0\r\nUID:${uid}\r\nFN:Person ${n}\r\nN:${n};Person;;;\r\nEMAIL;TYPE=home:person${n}@example.org\r\nTEL;TYPE=cell:+44 20 7946 ${String(n % 10000).padStart(4, '0')}\r\nEND:VCARD\r\n`;
}

function request(method: string, url: string, auth: string, body?: string, headers: Record<string, string> = {}): Promise<{ status: number; text: string }> {
  const payload = body === undefined ? undefined : Buffer.from(body);
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, agent, headers: { authorization: auth, 'content-length': String(payload?.length ?? 0), ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const status = res.statusCode ?? 0;
        if (status >= 400) reject(new Error(`${method} ${url}: ${status} ${text.slice(0, 300)}`));
        else resolve({ status, text });
      });
    });
    req.on('error', reject);
    req.end(payload);
  });
}

/** CPU seconds (user + system) a process has used so far. */
function cpuSeconds(pid: number): number {
  // Fields 14 and 15 of /proc/PID/stat, after the parenthesised command name.
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Runs `run` and measures write calls per fsync (null when the server does not say) and server and client CPU. */
async function measured<T>(t: Target, run: () => Promise<T>): Promise<{ value: T; writesPerFsync: number | null; serverCpuS: number; clientCpuS: number }> {
  const before = await t.durability?.();
  const cpu0 = cpuSeconds(t.pid);
  const client0 = process.cpuUsage();
  const value = await run();
  const client = process.cpuUsage(client0);
  const serverCpuS = cpuSeconds(t.pid) - cpu0;
  const after = await t.durability?.();
  const clientCpuS = (client.user + client.system) / 1e6;
  if (!before || !after || after.fsyncs === before.fsyncs) return { value, writesPerFsync: null, serverCpuS, clientCpuS };
  return { value, writesPerFsync: (after.writes - before.writes) / (after.fsyncs - before.fsyncs), serverCpuS, clientCpuS };
}

async function puts(t: Target, book: string, total: number, clients: number, prefix = 'c'): Promise<{ perSec: number; meanMs: number }> {
  let next = 0;
  let latency = 0;
  const url = new URL(t.book(book));
  const connections = Array.from({ length: clients }, () => new LeanHttpClient(url.hostname, Number(url.port)));
  const headers = { authorization: t.auth, 'content-type': 'text/vcard; charset=utf-8', 'if-none-match': '*' };
  const started = performance.now();
  await Promise.all(
    connections.map(async (connection) => {
      for (;;) {
        const n = next++;
        if (n >= total) return;
        const uid = `${prefix}${clients}-${n}`;
        const t0 = performance.now();
        const res = await connection.request('PUT', `${url.pathname}${uid}.vcf`, headers, card(uid, n));
        if (res.status !== 201) throw new Error(`${t.name}: PUT ${uid}: ${res.status} ${res.text.slice(0, 300)}`);
        latency += performance.now() - t0;
      }
    }),
  );
  for (const c of connections) c.close();
  const seconds = (performance.now() - started) / 1000;
  return { perSec: total / seconds, meanMs: latency / total };
}

const SYNC = (token: string) =>
  `<?xml version="1.0" encoding="utf-8"?><d:sync-collection xmlns:d="DAV:"><d:sync-token>${token}</d:sync-token><d:sync-level>1</d:sync-level><d:prop><d:getetag/></d:prop></d:sync-collection>`;

async function timed<T>(f: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await f();
  return { ms: performance.now() - t0, value };
}

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

async function workload(t: Target, putCount: number): Promise<Figures> {
  await t.makeBook('put1');
  await t.makeBook('put8');
  await t.makeBook('big');
  // Warm-up in a book of its own, so the measured books start empty for both systems (Radicale's
  // cost per PUT grows with the collection it writes to). A tenth of the measured PUTs, at most
  // WARMUP_MAX: a long-running server has compiled its hot paths (V8 optimises a PUT's code over
  // its first ~2,000 requests with bin/keepsake's --interrupt-budget, ~4,000 without, so the
  // measured run still holds the end of that; 20 warm-up PUTs left all of it inside), and CPython
  // has nothing to warm, so Radicale's 100 change nothing for it.
  await t.makeBook('warm');
  await puts(t, 'warm', Math.min(WARMUP_MAX, Math.ceil(putCount / 10)), 1, 'warm');
  const p1 = await measured(t, () => puts(t, 'put1', putCount, 1));
  const p8 = await measured(t, () => puts(t, 'put8', putCount, 8));
  await t.seed('big', CONTACTS);
  const big = t.book('big');
  await request('REPORT', big, t.auth, SYNC(''), { depth: '1', 'content-type': 'application/xml' }); // warm caches
  const initial = await timed(() => request('REPORT', big, t.auth, SYNC(''), { depth: '1', 'content-type': 'application/xml' }));
  const hrefs = [...initial.value.text.matchAll(/<(?:\w+:)?href>([^<]+)<\/(?:\w+:)?href>/g)].map((m) => m[1]).filter((h) => h.endsWith('.vcf'));
  if (hrefs.length < CONTACTS) throw new Error(`${t.name}: initial sync listed ${hrefs.length} of ${CONTACTS} contacts`);
  const token = /<(?:\w+:)?sync-token>([^<]+)</.exec(initial.value.text)![1];
  const multigetBody = `<?xml version="1.0" encoding="utf-8"?><c:addressbook-multiget xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:carddav"><d:prop><d:getetag/><c:address-data/></d:prop>${hrefs
    .slice(0, 1000)
    .map((h) => `<d:href>${h}</d:href>`)
    .join('')}</c:addressbook-multiget>`;
  const multiget = await timed(() => request('REPORT', big, t.auth, multigetBody, { depth: '1', 'content-type': 'application/xml' }));
  for (let i = 0; i < 10; i++) await request('PUT', `${big}changed-${i}.vcf`, t.auth, card(`changed-${i}`, i), { 'content-type': 'text/vcard' });
  const incremental = await timed(() => request('REPORT', big, t.auth, SYNC(token), { depth: '1', 'content-type': 'application/xml' }));
  const changed = [...incremental.value.text.matchAll(/changed-\d+\.vcf/g)].length;
  if (changed !== 10) throw new Error(`${t.name}: incremental sync reported ${changed} of 10 changes`);
  return {
    system: t.name,
    puts1: putCount,
    put1PerSec: p1.value.perSec,
    put1MeanMs: p1.value.meanMs,
    puts8: putCount,
    put8PerSec: p8.value.perSec,
    put1WritesPerFsync: p1.writesPerFsync,
    put8WritesPerFsync: p8.writesPerFsync,
    put1ServerCpuMs: (1000 * p1.serverCpuS) / putCount,
    put8ServerCpuMs: (1000 * p8.serverCpuS) / putCount,
    put1ClientCpuMs: (1000 * p1.clientCpuS) / putCount,
    put8ClientCpuMs: (1000 * p8.clientCpuS) / putCount,
    initialSyncMs: initial.ms,
    multiget1000Ms: multiget.ms,
    incrementalSyncMs: incremental.ms,
    rssMb: rssMb(t.pid),
  };
}

async function keepsake(dir: string): Promise<Target> {
  const data = join(dir, 'keepsake');
  cli(['user', 'add', 'ada', '--password-stdin', '--data', data], 'bench-password\n');
  const server = await startServer(['--data', data]);
  const res = await fetch(`${server.url}/api/v1/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Basic ' + Buffer.from('ada:bench-password').toString('base64') },
    body: JSON.stringify({ device: 'bench' }),
  });
  const token = ((await res.json()) as { token: string }).token;
  const auth = 'Basic ' + Buffer.from(`ada:${token}`).toString('base64');
  const t: Target = {
    name: 'Keepsake (SQLite)',
    book: (name) => `${server.url}/dav/ada/${name}/`,
    auth,
    pid: server.child.pid!,
    makeBook: async (name) => {
      await request('MKCOL', t.book(name), auth, MKCOL_BOOK, { 'content-type': 'application/xml' });
    },
    seed: async (name, n) => {
      // Through the JSON API in batches of 1,000 (the fast path a Keepsake device uses).
      for (let i = 0; i < n; i += 1000) {
        const changes = Array.from({ length: Math.min(1000, n - i) }, (_, k) => ({ changeId: `seed-${i + k}`, collection: name, id: `s${i + k}`, baseVersion: 0, content: card(`s${i + k}`, i + k) }));
        const r = await fetch(`${server.url}/api/v1/changes`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ changes }) });
        if (r.status !== 200) throw new Error(`seed failed: ${r.status}`);
      }
    },
    stop: () => server.stop(),
    durability: async () => {
      const r = await request('GET', `${server.url}/metrics`, auth);
      const value = (k: string) => Number(new RegExp(`keepsake_store_durability\\{counter="${k}"\\} (\\d+)`).exec(r.text)?.[1] ?? NaN);
      return { fsyncs: value('fsyncs'), writes: value('writes') };
    },
  };
  return t;
}

const MKCOL_BOOK = `<?xml version="1.0" encoding="utf-8"?><d:mkcol xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:carddav"><d:set><d:prop><d:resourcetype><d:collection/><c:addressbook/></d:resourcetype></d:prop></d:set></d:mkcol>`;

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function radicale(dir: string): Promise<Target> {
  const storage = join(dir, 'radicale');
  const port = await freePort();
  const child: ChildProcess = spawn(
    '/usr/bin/python3',
    ['-m', 'radicale', '--server-hosts', `127.0.0.1:${port}`, '--storage-filesystem-folder', storage, '--auth-type', 'none', '--rights-type', 'owner_only', '--logging-level', 'error'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  const base = `http://127.0.0.1:${port}`;
  const auth = 'Basic ' + Buffer.from('ada:bench-password').toString('base64');
  for (let i = 0; ; i++) {
    try {
      await fetch(`${base}/.web/`);
      break;
    } catch {
      if (i > 100) throw new Error(`radicale did not start: ${err}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const t: Target = {
    name: 'Radicale 3 (filesystem)',
    book: (name) => `${base}/ada/${name}/`,
    auth,
    pid: child.pid!,
    makeBook: async (name) => {
      await request('MKCOL', t.book(name), auth, MKCOL_BOOK, { 'content-type': 'application/xml' });
    },
    seed: async (name, n) => {
      // Radicale keeps one file per item: writing them directly is how one migrates into it.
      const folder = join(storage, 'collection-root', 'ada', name);
      await mkdir(folder, { recursive: true });
      for (let i = 0; i < n; i++) await writeFile(join(folder, `s${i}.vcf`), card(`s${i}`, i));
    },
    stop: async () => {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    },
  };
  return t;
}

function table(rows: Figures[]): void {
  const cols: Array<[string, (f: Figures) => string]> = [
    ['system', (f) => f.system],
    ['PUT/s 1 client', (f) => `${f.put1PerSec.toFixed(0)} (${f.puts1})`],
    ['PUT mean ms', (f) => f.put1MeanMs.toFixed(2)],
    ['PUT/s 8 clients', (f) => `${f.put8PerSec.toFixed(0)} (${f.puts8})`],
    ['server CPU ms/PUT 1 | 8', (f) => `${f.put1ServerCpuMs.toFixed(2)} | ${f.put8ServerCpuMs.toFixed(2)}`],
    ['client CPU ms/PUT 1 | 8', (f) => `${f.put1ClientCpuMs.toFixed(2)} | ${f.put8ClientCpuMs.toFixed(2)}`],
    ['writes/fsync 1 | 8', (f) => (f.put1WritesPerFsync === null ? '-' : `${f.put1WritesPerFsync.toFixed(2)} | ${f.put8WritesPerFsync?.toFixed(2)}`)],
    [`initial sync ${CONTACTS} ms`, (f) => f.initialSyncMs.toFixed(0)],
    ['multiget 1000 ms', (f) => f.multiget1000Ms.toFixed(0)],
    ['incremental (10) ms', (f) => f.incrementalSyncMs.toFixed(1)],
    ['RSS MB', (f) => f.rssMb.toFixed(0)],
  ];
  console.log(cols.map((c) => c[0]).join(' | '));
  for (const r of rows) console.log(cols.map((c) => c[1](r)).join(' | '));
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'keepsake-carddav-bench-'));
  const rows: Figures[] = [];
  try {
    if (SYSTEMS.includes('keepsake')) {
      const k = await keepsake(dir);
      try {
        rows.push(await workload(k, PUTS));
      } finally {
        await k.stop();
      }
    }
    if (SYSTEMS.includes('radicale')) {
      const r = await radicale(dir);
      try {
        rows.push(await workload(r, RADICALE_PUTS));
      } finally {
        await r.stop();
      }
    }
    table(rows);
    const ks = rows.find((r) => r.system.startsWith('Keepsake'));
    const rad = rows.find((r) => r.system.startsWith('Radicale'));
    if (ks && rad) {
      console.log(`Keepsake/Radicale: PUT throughput ×${(ks.put1PerSec / rad.put1PerSec).toFixed(1)} (1 client), ×${(ks.put8PerSec / rad.put8PerSec).toFixed(1)} (8 clients); initial sync ×${(rad.initialSyncMs / ks.initialSyncMs).toFixed(1)} faster`);
    }
    await writeFile('bench-carddav-results.json', JSON.stringify({ at: new Date().toISOString(), contacts: CONTACTS, rows }, null, 2) + '\n');
  } finally {
    agent.destroy();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
