// Foundation benchmark: single and batched pushes, a full pull, and RSS, on SQLite and PostgreSQL.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { batchedPushes, type Device, fullPull, Http, type LatencyStats, singlePushes } from './load.js';
import { cli, startServer } from './server-process.js';

export interface StoreFigures {
  store: string;
  single1: LatencyStats;
  single50: LatencyStats;
  batched500: LatencyStats;
  pull10k: LatencyStats;
  rssMb: number;
  peakRssMb: number;
}

const basic = (name: string, pw: string) => ({ authorization: 'Basic ' + Buffer.from(`${name}:${pw}`).toString('base64') });

export async function benchStore(label: string, storeArgs: string[], options: { seconds: number; batchedTotal: number; pullItems: number }): Promise<StoreFigures> {
  const dir = await mkdtemp(join(tmpdir(), `keepsake-bench-${label}-`));
  const args = ['--data', dir, ...storeArgs];
  cli(['user', 'add', 'admin', '--admin', '--password-stdin', ...args], 'admin-password\n');
  const server = await startServer(args);
  const http = new Http(server.url);
  try {
    const adminTok = (await http.json('POST', '/api/v1/tokens', { device: 'bench' }, basic('admin', 'admin-password'))).token;
    const devices: Device[] = [];
    for (let u = 0; u < 10; u++) {
      await http.json('POST', '/api/v1/admin/users', { name: `user${u}`, password: 'bench-password' }, { authorization: `Bearer ${adminTok}` });
      for (let d = 0; d < 5; d++) {
        const t = await http.json('POST', '/api/v1/tokens', { device: `dev${d}` }, basic(`user${u}`, 'bench-password'));
        devices.push({ token: t.token, n: 0 });
      }
    }
    await singlePushes(http, devices, 2); // warm up JIT, caches and connections
    const single1 = await singlePushes(http, devices.slice(0, 1), options.seconds / 2);
    const single50 = await singlePushes(http, devices, options.seconds);
    const batched500 = await batchedPushes(http, devices.slice(0, 4), 500, options.batchedTotal);
    await http.json('POST', '/api/v1/admin/users', { name: 'big', password: 'bench-password' }, { authorization: `Bearer ${adminTok}` });
    const big = (await http.json('POST', '/api/v1/tokens', { device: 'd' }, basic('big', 'bench-password'))).token;
    await batchedPushes(http, [{ token: big, n: 0 }], 500, options.pullItems);
    const pull10k = await fullPull(http, big);
    const mem = server.memory();
    return { store: label, single1, single50, batched500, pull10k, rssMb: mem.rssMb, peakRssMb: mem.peakMb };
  } finally {
    await http.close();
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
