// `keepsake drill`: a disaster rehearsal on scratch directories. A server with two backup targets
// serves a fleet of devices; mid-load its database and one backup are destroyed; it restarts
// with an online restore from the surviving backup; every acknowledged write is then checked.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Fleet, type FleetSummary } from '../simulate/index.js';

const CLI = fileURLToPath(new URL('../cli/main.js', import.meta.url));

export interface DrillOptions {
  users: number;
  devices: number;
  durationSeconds: number;
  /** Keep the scratch directory (for inspection) instead of deleting it. */
  keep?: boolean;
  photoShare?: number;
  onStep?: (message: string) => void;
}

export interface DrillReport {
  pass: boolean;
  users: number;
  devices: number;
  seconds: number;
  writesAcknowledged: number;
  writesBeforeDisaster: number;
  /** Data at risk: items the surviving backup lacked, which devices re-uploaded. */
  rpoItemsHealedByDevices: number;
  /** From the restart to every user's contacts being back. */
  contactsBackSeconds: number | null;
  /** From the restart to every category being back. */
  allBackSeconds: number | null;
  restoreItemsPerSecond: number;
  lost: number;
  lostItems: string[];
  devicesDiverged: number;
  quarantinedCategories: number;
  fleet: FleetSummary;
  scratch: string | null;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

function serve(args: string[]): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'serve', '--log-level', 'error', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const onData = (d: Buffer) => {
      out += d;
      if (/listening on http/.test(out)) resolve(child);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`keepsake serve exited (${code}): ${out.slice(-2000)}`)));
  });
}

async function json(url: string, init: RequestInit = {}): Promise<{ status: number; body: any }> {
  const res = await fetch(url, init);
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

export async function runDrill(options: DrillOptions): Promise<DrillReport> {
  const step = options.onStep ?? (() => {});
  const root = await mkdtemp(join(tmpdir(), 'keepsake-drill-'));
  const data = join(root, 'data');
  const [b1, b2, b3] = ['backup-1', 'backup-2', 'backup-after'].map((d) => join(root, d));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let server: ChildProcess | null = null;
  let fleet: Fleet | null = null;
  try {
    const add = spawnSync(process.execPath, [CLI, 'user', 'add', 'drill-admin', '--admin', '--password-stdin', '--data', data], { input: 'drill-admin-password\n', encoding: 'utf8' });
    if (add.status !== 0) throw new Error(`could not create the drill's admin: ${add.stderr}`);
    server = await serve(['--data', data, '--port', String(port), '--backup', b1, '--backup', b2]);
    step(`server up on ${url} with two backup targets`);
    const basic = 'Basic ' + Buffer.from('drill-admin:drill-admin-password').toString('base64');
    const tok = await json(`${url}/api/v1/tokens`, { method: 'POST', headers: { authorization: basic, 'content-type': 'application/json' }, body: JSON.stringify({ device: 'drill' }) });
    if (tok.status !== 201) throw new Error(`could not get an admin token: ${JSON.stringify(tok.body)}`);
    let adminToken = tok.body.token as string;
    // A token that was issued moments before the disaster may not have reached the backup: log in again then.
    const relogin = async () => {
      const t = await json(`${url}/api/v1/tokens`, { method: 'POST', headers: { authorization: basic, 'content-type': 'application/json' }, body: JSON.stringify({ device: 'drill' }) }).catch(() => null);
      if (t?.status === 201) adminToken = t.body.token;
    };

    // The admin's account and token reach the backup with its first change (the fleet creates
    // its users through that token, also after the restore).
    const adminAuth = { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' };
    await json(`${url}/api/v1/changes`, { method: 'POST', headers: adminAuth, body: JSON.stringify({ changes: [{ changeId: `drill-${Date.now()}`, collection: 'notes', id: 'drill', baseVersion: 0, content: { title: 'Drill', body: 'disaster rehearsal' } }] }) });
    for (let i = 0; i < 100; i++) {
      const st = await json(`${url}/api/v1/status`, { headers: adminAuth });
      if (st.body?.server?.backup?.upToDate && st.body.server.backup.lastBackedUpAt) break;
      await sleep(100);
    }

    fleet = await Fleet.start({
      serverUrl: url,
      users: options.users,
      devices: options.devices,
      durationSeconds: options.durationSeconds,
      // A function: after the restore the drill may have to log in again (see relogin).
      createUsers: { adminToken: () => adminToken },
      photoShare: options.photoShare ?? 0.05,
      photoBytes: 100_000,
      editIntervalMs: 300,
      syncIntervalMs: 500,
      offlineChance: 0.01,
      initialItemsPerUser: 10,
    });
    step(`fleet of ${options.users} users × ${options.devices} devices at work`);
    await sleep((options.durationSeconds * 1000) / 2);

    const writesBeforeDisaster = fleet.ledger.writes;
    server.kill('SIGKILL');
    await new Promise((r) => server!.once('exit', r));
    await rm(data, { recursive: true, force: true });
    await rm(b1, { recursive: true, force: true });
    step(`disaster: server killed, database and backup-1 destroyed after ${writesBeforeDisaster} acknowledged writes`);

    const restartedAt = performance.now();
    server = await serve(['--data', data, '--port', String(port), '--restore-from', b2, '--backup', b3]);
    step('server restarted empty, restoring online from backup-2');
    let contactsBack: number | null = null;
    let allBack: number | null = null;
    let rate = 0;
    const deadline = restartedAt + 120_000;
    while (performance.now() < deadline) {
      const r = await json(`${url}/api/v1/admin/restore`, { headers: { authorization: `Bearer ${adminToken}` } }).catch(() => ({ status: 0, body: null }));
      if (r.status === 401) await relogin();
      if (r.status === 200 && r.body.startedAt) {
        const contacts = r.body.categories.find((c: any) => c.kind === 'contacts');
        if (contactsBack === null && r.body.planned && contacts && contacts.users.pending === 0 && contacts.users.restoring === 0) {
          contactsBack = (performance.now() - restartedAt) / 1000;
        }
        if (!r.body.running && r.body.finishedAt) {
          allBack = (performance.now() - restartedAt) / 1000;
          rate = r.body.itemsPerSecond;
          contactsBack ??= allBack;
          break;
        }
      }
      await sleep(50);
    }
    step(`restore finished: contacts back after ${contactsBack?.toFixed(2) ?? '?'} s, everything after ${allBack?.toFixed(2) ?? '?'} s`);

    const remaining = options.durationSeconds * 1000 - (performance.now() - restartedAt) - (options.durationSeconds * 1000) / 2;
    if (remaining > 0) await sleep(Math.min(remaining, (options.durationSeconds * 1000) / 2));
    await fleet.stop();
    await fleet.settle();
    const summary = await fleet.verify();
    const status = await json(`${url}/api/v1/admin/restore`, { headers: { authorization: `Bearer ${adminToken}` } }).catch(() => ({ status: 0, body: null }));
    const quarantined = status.body?.categories?.reduce((n: number, c: any) => n + (c.users?.quarantined ?? 0), 0) ?? 0;
    step(`verified: ${summary.writes} acknowledged writes, ${summary.lost} lost, ${summary.healed} healed by devices`);
    return {
      pass: summary.lost === 0 && summary.devicesDiverged === 0 && allBack !== null,
      users: options.users,
      devices: options.users * options.devices,
      seconds: summary.seconds,
      writesAcknowledged: summary.writes,
      writesBeforeDisaster,
      rpoItemsHealedByDevices: summary.healed,
      contactsBackSeconds: contactsBack,
      allBackSeconds: allBack,
      restoreItemsPerSecond: rate,
      lost: summary.lost,
      lostItems: summary.lostItems,
      devicesDiverged: summary.devicesDiverged,
      quarantinedCategories: quarantined,
      fleet: summary,
      scratch: options.keep ? root : null,
    };
  } finally {
    await fleet?.close().catch(() => {});
    if (server && server.exitCode === null) {
      server.kill('SIGTERM');
      await new Promise((r) => server!.once('exit', r));
    }
    if (!options.keep) await rm(root, { recursive: true, force: true });
  }
}
