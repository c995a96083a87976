// The fleet simulator: many users, each with several devices that edit every kind of data, go
// offline and come back, while a ledger records every acknowledged write. At the end every
// device syncs, and the server is checked against the ledger and every device against the server.
import { KeepsakeClient, MemoryReplicaStore, type HealReport, type SyncReport } from '../client/index.js';
import type { Kind } from '../protocol/sync-protocol.js';
import { type AccountProvisioner, type CreateUsers, openProvisioner } from './accounts.js';
import { contentFor } from './content.js';
import { randomPng } from './images.js';
import { Ledger } from './ledger.js';
import { Random } from './random.js';

export interface FleetOptions {
  serverUrl: string;
  users: number;
  /** Devices per user. */
  devices: number;
  durationSeconds: number;
  /** How accounts are made: the admin API (`adminToken`) or the store in `dataDir`. */
  createUsers: CreateUsers;
  /** Account names are `<userPrefix><n>` (default `sim-<random>-`). */
  userPrefix?: string;
  seed?: number;
  /** Mean time between one device's edits (default 2,000 ms). */
  editIntervalMs?: number;
  /** Time between one device's syncs while online (default 3,000 ms). */
  syncIntervalMs?: number;
  /** Chance per edit that the device goes offline (default 0.02) … */
  offlineChance?: number;
  /** … for this long (default 2–10 s). */
  offlineSeconds?: [number, number];
  /** Share of new items that are photos (default 0.05), and their size (default: each photo 200 KB to 3 MB, like a phone's). */
  photoShare?: number;
  photoBytes?: number;
  /** Share of edits that delete an item (default 0.05). */
  deleteShare?: number;
  /** Compare collection digests after each sync (default true), or at most once per that many ms. */
  verifyDigests?: boolean | number;
  /** Items each device of a user starts with before the run (default 0; the first device creates them). */
  initialItemsPerUser?: number;
  /** fetch for every device (default: the global one), e.g. one with a bounded connection pool. */
  fetch?: typeof fetch;
  /** Called about once a second while devices are active. */
  onProgress?: (p: FleetProgress) => void;
}

export interface FleetProgress {
  seconds: number;
  writes: number;
  syncs: number;
  conflicts: number;
  healed: number;
  offlineDevices: number;
}

export interface FleetSummary {
  users: number;
  devices: number;
  seconds: number;
  /** Writes the server acknowledged (the ledger). */
  writes: number;
  writesPerSecond: number;
  conflicts: number;
  /** Items devices re-uploaded to a server that had lost them, and the reconciliations. */
  healed: number;
  reconciles: number;
  /** Acknowledged writes missing from the server at the end. Must be 0. */
  lost: number;
  lostItems: string[];
  /** Devices whose live items differ from the server's after the final sync. */
  devicesDiverged: number;
  syncs: number;
  syncP50Ms: number;
  syncP99Ms: number;
  offlinePeriods: number;
  rejected: number;
  /** Sync errors other than being offline (first few, as code: message). */
  errors: string[];
}

const KIND_WEIGHTS: Array<[Exclude<Kind, 'photos'>, number]> = [
  ['contacts', 25],
  ['calendar', 20],
  ['tasks', 15],
  ['notes', 25],
  ['scores', 10],
];

interface SimDevice {
  user: string;
  password: string;
  index: number;
  client: KeepsakeClient;
  random: Random;
  online: boolean;
  counter: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** A running fleet. `runFleet` is start → wait → stop → settle → verify. */
export class Fleet {
  readonly ledger = new Ledger();
  readonly devices: SimDevice[] = [];
  private stopped = false;
  private loops: Promise<void>[] = [];
  private readonly latencies: number[] = [];
  private healed = 0;
  private reconciles = 0;
  private offlinePeriods = 0;
  private rejected = 0;
  private readonly errors: string[] = [];
  private startedAt = 0;
  private pace: { editIntervalMs?: number; syncIntervalMs?: number } = {};
  private stoppedAt = 0;

  private constructor(
    readonly options: FleetOptions,
    private readonly accounts: AccountProvisioner,
  ) {}

  /** Creates the accounts and devices (and any initial items), then starts every device. */
  static async start(options: FleetOptions): Promise<Fleet> {
    const accounts = await openProvisioner(options.serverUrl, options.createUsers);
    const fleet = new Fleet(options, accounts);
    fleet.pace = { editIntervalMs: options.editIntervalMs, syncIntervalMs: options.syncIntervalMs };
    const seed = options.seed ?? Date.now();
    const prefix = options.userPrefix ?? `sim-${(seed >>> 0).toString(36)}-`;
    const root = new Random(seed);
    for (let u = 0; u < options.users; u++) {
      const user = `${prefix}${u}`;
      const password = `sim-password-${u}`;
      await accounts.ensureUser(user, password);
      for (let d = 0; d < options.devices; d++) {
        const token = await accounts.token(user, password, `sim device ${d}`);
        const client = await KeepsakeClient.open({
          serverUrl: options.serverUrl,
          token,
          store: new MemoryReplicaStore(),
          retry: { attempts: 3, baseDelayMs: 50, maxDelayMs: 1000 },
          verifyDigests: options.verifyDigests ?? true,
          ...(options.fetch ? { fetch: options.fetch } : {}),
        });
        const dev: SimDevice = { user, password, index: d, client, random: new Random(root.int(1, 2 ** 31)), online: true, counter: 0 };
        client.on('acknowledged', (a) => fleet.ledger.record(user, a));
        client.on('healed', (h: HealReport) => {
          fleet.healed += h.healed;
          fleet.reconciles++;
        });
        client.on('rejected', () => fleet.rejected++);
        fleet.devices.push(dev);
      }
    }
    const initial = options.initialItemsPerUser ?? 0;
    if (initial > 0) {
      const firsts = fleet.devices.filter((d) => d.index === 0);
      await Promise.all(
        firsts.map(async (d) => {
          for (let i = 0; i < initial; i++) await fleet.create(d);
          await fleet.sync(d);
        }),
      );
      await Promise.all(fleet.devices.filter((d) => d.index !== 0).map((d) => fleet.sync(d)));
    }
    fleet.startedAt = performance.now();
    fleet.loops = fleet.devices.map((d) => fleet.loop(d));
    return fleet;
  }

  private async create(d: SimDevice): Promise<void> {
    const o = this.options;
    const id = `${d.user}-d${d.index}-${++d.counter}`;
    if (d.random.chance(o.photoShare ?? 0.05)) {
      const bytes = randomPng(d.random, o.photoBytes ?? d.random.int(200_000, 3_000_000));
      await d.client.putPhoto('photos', `photo-${id}`, bytes, { name: `IMG_${d.counter}.png`, type: 'image/png', takenAt: new Date().toISOString() });
      return;
    }
    let r = d.random.next() * 95;
    let kind: Exclude<Kind, 'photos'> = 'notes';
    for (const [k, w] of KIND_WEIGHTS) {
      if ((r -= w) < 0) {
        kind = k;
        break;
      }
    }
    const itemId = `${kind}-${id}`;
    await d.client.put(kind, itemId, contentFor(kind, d.random, itemId, 1));
  }

  /** One edit: create, update or delete something in the user's data (shared by their devices). */
  private async edit(d: SimDevice): Promise<void> {
    const live = d.client.list();
    const roll = d.random.next();
    if (live.length === 0 || roll < 0.45) return this.create(d);
    const target = d.random.pick(live);
    if (roll > 1 - (this.options.deleteShare ?? 0.05)) return d.client.delete(target.collection, target.id);
    if (target.collection === 'photos') {
      const c = target.content as { blob: string; name: string; type: string; size: number };
      return d.client.put(target.collection, target.id, { ...c, name: `renamed-${d.random.int(1, 1e6)}-${c.name}`.slice(0, 200) });
    }
    const kind = target.collection as Exclude<Kind, 'photos'>;
    return d.client.put(target.collection, target.id, contentFor(kind, d.random, target.id, ++d.counter));
  }

  private async sync(d: SimDevice): Promise<SyncReport> {
    const t0 = performance.now();
    let r = await d.client.sync();
    if (!r.ok && r.error?.code === 'unauthorized') {
      // A wiped server lost the account: sign in again (the operator restored accounts first,
      // or the provisioner re-creates them).
      try {
        await this.accounts.ensureUser(d.user, d.password);
        d.client.setToken(await this.accounts.token(d.user, d.password, `sim device ${d.index}`));
        r = await d.client.sync();
      } catch (e) {
        this.error(`reauthorize ${d.user}: ${(e as Error).message}`);
      }
    }
    this.latencies.push(performance.now() - t0);
    if (!r.ok && r.error && r.error.code !== 'offline') this.error(`${r.error.code}: ${r.error.message}`);
    return r;
  }

  private error(text: string): void {
    if (this.errors.length < 20) this.errors.push(text);
  }

  private async loop(d: SimDevice): Promise<void> {
    const o = this.options;
    let nextSync = performance.now() + d.random.next() * (this.pace.syncIntervalMs ?? 3000);
    let backOnline = 0;
    while (!this.stopped) {
      const editMs = this.pace.editIntervalMs ?? 2000;
      const syncMs = this.pace.syncIntervalMs ?? 3000;
      await sleep(Math.min(-Math.log(1 - d.random.next()) * editMs, editMs * 5, Math.max(1, nextSync - performance.now())));
      if (this.stopped) break;
      const now = performance.now();
      if (!d.online && now >= backOnline) d.online = true;
      if (now >= nextSync) {
        nextSync = now + syncMs;
        if (d.online) await this.sync(d);
        continue;
      }
      try {
        await this.edit(d);
      } catch (e) {
        this.error(`edit: ${(e as Error).message}`);
      }
      if (d.online && d.random.chance(o.offlineChance ?? 0.02)) {
        const [lo, hi] = o.offlineSeconds ?? [2, 10];
        d.online = false;
        backOnline = performance.now() + (lo + d.random.next() * (hi - lo)) * 1000;
        this.offlinePeriods++;
      }
    }
  }

  /** Changes how fast devices edit and sync (a benchmark steps the load up this way). */
  setPace(pace: { editIntervalMs?: number; syncIntervalMs?: number }): void {
    this.pace = { ...this.pace, ...pace };
  }

  progress(): FleetProgress {
    return {
      seconds: (performance.now() - this.startedAt) / 1000,
      writes: this.ledger.writes,
      syncs: this.latencies.length,
      conflicts: this.ledger.conflicts,
      healed: this.healed,
      offlineDevices: this.devices.filter((d) => !d.online).length,
    };
  }

  /** Stops editing; devices finish what they were doing. */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.loops);
    this.stoppedAt = performance.now();
  }

  /** Signs every device in again (after the accounts were re-created on a replaced server). */
  async reauthorize(): Promise<void> {
    const seen = new Set<string>();
    for (const d of this.devices) {
      if (!seen.has(d.user)) await this.accounts.ensureUser(d.user, d.password);
      seen.add(d.user);
      d.client.setToken(await this.accounts.token(d.user, d.password, `sim device ${d.index}`));
    }
  }

  /** One sync of every device at once (all online); returns the reports. */
  async syncAll(): Promise<SyncReport[]> {
    for (const d of this.devices) d.online = true;
    return Promise.all(this.devices.map((d) => this.sync(d)));
  }

  /** Brings every device online and syncs until all agree (three rounds per user). */
  async settle(): Promise<void> {
    for (const d of this.devices) d.online = true;
    const byUser = new Map<string, SimDevice[]>();
    for (const d of this.devices) byUser.set(d.user, [...(byUser.get(d.user) ?? []), d]);
    await Promise.all(
      [...byUser.values()].map(async (devs) => {
        for (let round = 0; round < 3; round++) for (const d of devs) await this.sync(d);
      }),
    );
  }

  /** Checks the server against the ledger and every device against the server. */
  async verify(): Promise<FleetSummary> {
    const lostItems: string[] = [];
    let devicesDiverged = 0;
    const byUser = new Map<string, SimDevice[]>();
    for (const d of this.devices) byUser.set(d.user, [...(byUser.get(d.user) ?? []), d]);
    const base = this.options.serverUrl.replace(/\/+$/, '');
    await Promise.all(
      [...byUser].map(async ([user, devs]) => {
        const token = await this.accounts.token(user, devs[0].password, 'sim verifier');
        const get = async (path: string) => {
          const res = await fetch(base + path, { headers: { authorization: `Bearer ${token}` } });
          if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
          return res.json() as Promise<any>;
        };
        const current = new Map<string, { hash: string; deleted: boolean }>();
        let cursor: string | null = null;
        for (;;) {
          const page: any = await get(`/api/v1/changes?limit=5000${cursor ? `&since=${encodeURIComponent(cursor)}` : ''}`);
          for (const w of page.changes) current.set(`${w.collection}/${w.id}`, w);
          cursor = page.cursor;
          if (!page.more) break;
        }
        for (const w of this.ledger.liveWrites(user)) {
          const cur = current.get(`${w.collection}/${w.id}`);
          if (cur && !cur.deleted && cur.hash === w.hash) continue;
          const revs = (await get(`/api/v1/items/${encodeURIComponent(w.collection)}/${encodeURIComponent(w.id)}/revisions`)).revisions as Array<{ hash: string }>;
          if (!revs.some((r) => r.hash === w.hash)) lostItems.push(`${user}/${w.collection}/${w.id} ${w.hash}`);
        }
        const collections = (await get('/api/v1/collections')).collections as Array<{ id: string; digest: string }>;
        for (const d of devs) {
          const mine = await d.client.digests();
          const diverged = collections.some((c) => (mine[c.id] ?? '0'.repeat(64)) !== c.digest) || d.client.pending().length > 0;
          if (diverged) devicesDiverged++;
        }
      }),
    );
    const seconds = ((this.stoppedAt || performance.now()) - this.startedAt) / 1000;
    const sorted = [...this.latencies].sort((a, b) => a - b);
    return {
      users: this.options.users,
      devices: this.devices.length,
      seconds,
      writes: this.ledger.writes,
      writesPerSecond: this.ledger.writes / Math.max(seconds, 1e-9),
      conflicts: this.ledger.conflicts,
      healed: this.healed,
      reconciles: this.reconciles,
      lost: lostItems.length,
      lostItems: lostItems.slice(0, 20),
      devicesDiverged,
      syncs: sorted.length,
      syncP50Ms: percentile(sorted, 50),
      syncP99Ms: percentile(sorted, 99),
      offlinePeriods: this.offlinePeriods,
      rejected: this.rejected,
      errors: [...this.errors],
    };
  }

  /** Sync latencies recorded so far (ms), e.g. for a benchmark phase. */
  takeLatencies(): number[] {
    return this.latencies.splice(0, this.latencies.length);
  }

  async close(): Promise<void> {
    if (!this.stopped) await this.stop();
    await Promise.all(this.devices.map((d) => d.client.close()));
    await this.accounts.close();
  }
}

/** Runs a fleet for `durationSeconds`, settles it, verifies it, and returns the summary. */
export async function runFleet(options: FleetOptions): Promise<FleetSummary> {
  const fleet = await Fleet.start(options);
  try {
    const timer = options.onProgress ? setInterval(() => options.onProgress!(fleet.progress()), 1000) : null;
    await sleep(options.durationSeconds * 1000);
    if (timer) clearInterval(timer);
    await fleet.stop();
    await fleet.settle();
    return await fleet.verify();
  } finally {
    await fleet.close();
  }
}
