// Batched pushes only, with the server's CPU time per item: a steadier figure than items/s when
// other processes share the machine. `node dist/bench/batched-cpu.bench.js [--runs N] [--items N]
// [--before N]`: each run starts a fresh SQLite server, pushes --before items (default 10,000) in
// batches of 500 from 4 devices of one account, then measures --items more (default 40,000).
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { batchedPushes, type Device, Http } from './load.js';
import { cli, startServer } from './server-process.js';

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
}

/** CPU seconds (user + system) of each thread of `pid`, by thread id. */
async function threadCpu(pid: number): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const tid of await readdir(`/proc/${pid}/task`)) {
    const stat = await readFile(`/proc/${pid}/task/${tid}/stat`, 'utf8').catch(() => '');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (f.length > 12) out.set(tid, (Number(f[11]) + Number(f[12])) / 100); // clock ticks; USER_HZ is 100 on Linux
  }
  return out;
}

const basic = (name: string, pw: string) => ({ authorization: 'Basic ' + Buffer.from(`${name}:${pw}`).toString('base64') });

async function run(before: number, items: number) {
  const dir = await mkdtemp(join(tmpdir(), 'keepsake-bench-batched-'));
  const args = ['--data', dir];
  cli(['user', 'add', 'admin', '--admin', '--password-stdin', ...args], 'admin-password\n');
  const server = await startServer(args);
  const http = new Http(server.url);
  try {
    const admin = (await http.json('POST', '/api/v1/tokens', { device: 'bench' }, basic('admin', 'admin-password'))).token;
    await http.json('POST', '/api/v1/admin/users', { name: 'user0', password: 'bench-password' }, { authorization: `Bearer ${admin}` });
    const devices: Device[] = [];
    for (let d = 0; d < 4; d++) {
      const t = await http.json('POST', '/api/v1/tokens', { device: `dev${d}` }, basic('user0', 'bench-password'));
      devices.push({ token: t.token, n: d * 1_000_000 });
    }
    await batchedPushes(http, devices, 500, before);
    const pid = server.child.pid!;
    const cpu0 = await threadCpu(pid);
    const stats = await batchedPushes(http, devices, 500, items);
    const cpu1 = await threadCpu(pid);
    let total = 0;
    for (const [tid, s] of cpu1) total += s - (cpu0.get(tid) ?? 0);
    const main = (cpu1.get(String(pid)) ?? 0) - (cpu0.get(String(pid)) ?? 0);
    const perItem = (s: number) => (s * 1e6) / stats.count;
    return { perSecond: stats.perSecond, cpuUs: perItem(total), mainUs: perItem(main), rssMb: server.memory().rssMb };
  } finally {
    await http.close();
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

const runs = option('--runs', 3);
const results = [];
for (let r = 0; r < runs; r++) {
  const x = await run(option('--before', 10_000), option('--items', 40_000));
  results.push(x);
  console.log(`run ${r + 1}: ${x.perSecond.toFixed(0)} items/s, server CPU ${x.cpuUs.toFixed(1)} µs/item (main thread ${x.mainUs.toFixed(1)}), RSS ${x.rssMb.toFixed(0)} MB`);
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(
  `median: ${median(results.map((x) => x.perSecond)).toFixed(0)} items/s, server CPU ${median(results.map((x) => x.cpuUs)).toFixed(1)} µs/item, main thread ${median(results.map((x) => x.mainUs)).toFixed(1)} µs/item`,
);
