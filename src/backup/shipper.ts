// Continuous backup: ships every committed change to each target as change segments, within about a second.
import type { BlobStore } from '../core/ports/blob-store.js';
import type { BackupBatch, RecordStore } from '../core/ports/record-store.js';
import { KeepsakeError } from '../core/errors.js';
import { checkObject } from './object-codec.js';
import type { BackupRepository } from './repository.js';
import { names, type SegmentPayload, type VerificationPayload } from './repository-format.js';
import { metaHashes } from './meta-hash.js';
import { writeSnapshot } from './snapshot.js';

/** Minimal logger (pino-compatible). */
export interface BackupLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export const silentLog: BackupLog = { info() {}, warn() {}, error() {} };

export interface ShipperOptions {
  /** Most log records per segment. */
  batchRecords: number;
  /** How often the store is polled for changes made by other processes. */
  pollMs: number;
  /** How long to wait after a change for more to arrive before shipping (groups writes). */
  gatherMs: number;
  /** A new snapshot after this many sequence numbers since the last one… */
  snapshotEverySeqs: number;
  /** …or this many segments… */
  snapshotEverySegments: number;
  /** How often every user's account, tokens, collections and blob refs are compared with what was shipped. */
  metaSweepMs: number;
  /** Users shipped at once per target. */
  parallelUsers: number;
  /** Longest pause between retries of a failing target. */
  maxBackoffMs: number;
  log: BackupLog;
  now(): number;
}

export const DEFAULT_SHIPPER_OPTIONS: ShipperOptions = {
  batchRecords: 2000,
  pollMs: 1000,
  gatherMs: 5,
  snapshotEverySeqs: 5000,
  snapshotEverySegments: 500,
  metaSweepMs: 10 * 60 * 1000,
  parallelUsers: 8,
  maxBackoffMs: 30_000,
  log: silentLog,
  now: () => Date.now(),
};

/** What one target has of one user. */
interface UserProgress {
  n: number;
  /** Name of segment `n`, or null before the first. */
  lastName: string | null;
  toSeq: number;
  /** Fingerprints of account+collections and of blob refs last shipped; null when not yet known. */
  metaHash: string | null;
  snapshotSeq: number;
  snapshotSegment: number;
  lastShippedAt: string | null;
}

/** Health of one target, for status, /metrics and /api/v1/status. */
export interface TargetStatus {
  target: string;
  state: 'starting' | 'ok' | 'failing';
  lastError: string | null;
  lastErrorAt: string | null;
  /** Last time a segment was written successfully. */
  lastShipAt: string | null;
  /** Seconds since the oldest change this target does not have yet (0 when up to date). */
  lagSeconds: number;
  pendingUsers: number;
  segmentsShipped: number;
  snapshotsWritten: number;
  bytesShipped: number;
  lastVerification: Pick<VerificationPayload, 'at' | 'ok' | 'mode'> | null;
}

interface Waiter {
  userId: string;
  seq: number;
  gen: number;
  resolve(): void;
}

/** One target's shipping loop and progress. */
class TargetShipper {
  readonly progress = new Map<string, UserProgress>();
  readonly shippedGen = new Map<string, number>();
  /** userId → when the oldest unshipped change was first seen. */
  readonly pendingSince = new Map<string, number>();
  private knownBlobs: Set<string> | null = null;
  private indexLoaded = false;
  status: TargetStatus;
  private wake: (() => void) | null = null;
  private poked = false;
  private failures = 0;
  private lastSweep = 0;
  /** Shipping delays (ms from first seen to shipped), for benchmarks. */
  readonly delays: number[] = [];

  constructor(
    private readonly owner: BackupShipper,
    readonly repo: BackupRepository,
  ) {
    this.status = {
      target: repo.target.description,
      state: 'starting',
      lastError: null,
      lastErrorAt: null,
      lastShipAt: null,
      lagSeconds: 0,
      pendingUsers: 0,
      segmentsShipped: 0,
      snapshotsWritten: 0,
      bytesShipped: 0,
      lastVerification: null,
    };
  }

  /** A write happened: ship soon (a wake-up that arrives mid-pass is kept for the next sleep). */
  poke(): void {
    this.poked = true;
    this.wake?.();
  }

  async run(): Promise<void> {
    const o = this.owner.options;
    let lastPoll = -Infinity;
    while (this.owner.running) {
      try {
        if (!this.indexLoaded) await this.loadIndex();
        const now = o.now();
        const todo = new Set<string>();
        if (now - lastPoll >= o.pollMs) {
          // Full poll: catches writes by other processes (CLI, other servers on PostgreSQL).
          lastPoll = now;
          const sweep = now - this.lastSweep >= o.metaSweepMs;
          if (sweep) this.lastSweep = now;
          for (const { userId, seq } of await this.owner.store.listUserSeqs()) {
            const p = this.progress.get(userId);
            const behind = seq > (p?.toSeq ?? 0) || !p;
            if (behind && !this.pendingSince.has(userId)) this.pendingSince.set(userId, now);
            if (behind || sweep) todo.add(userId);
          }
        }
        for (const userId of this.pendingSince.keys()) todo.add(userId);
        for (const [userId, gen] of this.owner.dirtyGen) if (gen > (this.shippedGen.get(userId) ?? 0)) todo.add(userId);
        await this.shipAll([...todo]);
        this.failures = 0;
        this.status.state = 'ok';
      } catch (e) {
        this.failures++;
        this.status.state = 'failing';
        this.status.lastError = (e as Error).message;
        this.status.lastErrorAt = new Date(o.now()).toISOString();
        if (this.failures === 1 || this.failures % 20 === 0) o.log.error({ target: this.status.target, err: (e as Error).message }, 'backup shipping failed; will retry');
        await this.sleep(Math.min(o.maxBackoffMs, 250 * 2 ** Math.min(this.failures, 10)), false);
        continue;
      }
      this.updateLag();
      await this.sleep(o.pollMs, true);
      if (this.owner.running && o.gatherMs > 0) await new Promise((r) => setTimeout(r, o.gatherMs));
    }
  }

  /** Ships users with a few in parallel (each user's segments stay strictly in order). */
  private async shipAll(users: string[]): Promise<void> {
    let next = 0;
    let failure: unknown = null;
    const worker = async () => {
      while (next < users.length && this.owner.running && failure === null) {
        try {
          await this.shipUser(users[next++]);
        } catch (e) {
          failure = e;
        }
      }
    };
    // Every worker finishes before the pass ends, so one user is never shipped twice at once.
    await Promise.all(Array.from({ length: Math.min(this.owner.options.parallelUsers, users.length) }, worker));
    if (failure !== null) throw failure;
  }

  /** Waits `ms`; a poke ends the wait early when `pokable` (stop always does). */
  private sleep(ms: number, pokable: boolean): Promise<void> {
    if (pokable && this.poked) {
      this.poked = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const self = this;
      function done() {
        clearTimeout(timer);
        self.wake = null;
        resolve();
      }
      this.wake = () => {
        if (pokable || !this.owner.running) {
          this.poked = false;
          done();
        }
      };
    });
  }

  updateLag(): void {
    const now = this.owner.options.now();
    let oldest = now;
    for (const t of this.pendingSince.values()) oldest = Math.min(oldest, t);
    this.status.lagSeconds = (now - oldest) / 1000;
    this.status.pendingUsers = this.pendingSince.size;
  }

  /** Progress from one listing of `users/` (resumes exactly where the target left off). */
  private async loadIndex(): Promise<void> {
    const indexes = await this.repo.allUserIndexes();
    for (const [userId, index] of indexes) {
      // The segment reaching furthest is where this target resumes (segments may overlap after a race).
      const last = [...index.segments].sort((a, b) => a.toSeq - b.toSeq || a.n - b.n).at(-1);
      const maxN = index.segments.reduce((m, s) => Math.max(m, s.n), 0);
      const snap = index.snapshots[index.snapshots.length - 1];
      this.progress.set(userId, {
        n: maxN,
        lastName: last?.name ?? null,
        toSeq: last?.toSeq ?? 0,
        metaHash: null,
        snapshotSeq: snap?.seq ?? -1,
        snapshotSegment: snap?.segment ?? 0,
        lastShippedAt: null,
      });
    }
    const verifications = await this.repo.listNames('verifications/');
    const latest = verifications[verifications.length - 1];
    if (latest) {
      const v = await this.repo.getJson<VerificationPayload>(latest.name, 'verification').catch(() => null);
      if (v) this.status.lastVerification = { at: v.at, ok: v.ok, mode: v.mode };
    }
    this.indexLoaded = true;
  }

  private async blobsOnTarget(): Promise<Set<string>> {
    if (!this.knownBlobs) {
      const set = new Set<string>();
      for (const o of await this.repo.listNames('blobs/')) set.add(`sha256:${o.name.slice(o.name.lastIndexOf('/') + 1)}`);
      this.knownBlobs = set;
    }
    return this.knownBlobs;
  }

  /** Ships everything of one user this target lacks; segments are numbered without gaps. */
  async shipUser(userId: string, forceSnapshot = false): Promise<string | null> {
    const o = this.owner.options;
    const gen = this.owner.dirtyGen.get(userId) ?? 0;
    let p = this.progress.get(userId);
    if (p && p.metaHash === null && p.lastName) {
      // After a restart: learn what the last segment carried (one small read, this user only).
      const seg = await this.repo.getJson<SegmentPayload>(p.lastName, 'segment').catch(() => null);
      p.metaHash = seg?.metaHash ?? '';
      p.lastShippedAt = seg?.shippedAt ?? null;
    }
    for (;;) {
      p = this.progress.get(userId);
      const afterSeq = p?.toSeq ?? 0;
      // A user's first shipment is read whole: it becomes segment 1 and the first snapshot.
      const first = !p || p.snapshotSeq < 0;
      const read = await this.owner.store.readBackupBatch(userId, first ? 0 : afterSeq, first ? Number.MAX_SAFE_INTEGER : o.batchRecords);
      if (!read) {
        this.pendingSince.delete(userId); // the user is gone from the store: nothing left to ship
        return null;
      }
      const batch = first && afterSeq > 0 ? { ...read, records: read.records.filter((r) => r.version > afterSeq) } : read;
      const meta = metaHashes(batch);
      if (batch.records.length > 0 || p?.metaHash !== `${meta.account}.${meta.blobs}` || !p) {
        p = await this.writeSegment(userId, p ?? null, batch, meta, gen);
      }
      if (!batch.complete) continue;
      const due = (forceSnapshot && p.snapshotSeq !== p.toSeq) || p.snapshotSeq < 0 || p.toSeq - p.snapshotSeq >= o.snapshotEverySeqs || p.n - p.snapshotSegment >= o.snapshotEverySegments;
      if (due) {
        let full = first ? read : await this.owner.store.readBackupBatch(userId, 0, Number.MAX_SAFE_INTEGER);
        if (!full) return null;
        if (full.seq > p.toSeq) {
          // Writes arrived meanwhile: ship them from the same read, so the snapshot sits exactly at a segment's end.
          const rest = { ...full, records: full.records.filter((r) => r.version > p!.toSeq) };
          const m = metaHashes(full);
          p = await this.writeSegment(userId, p, rest, m, gen);
        }
        const written = await writeSnapshot(this.repo, full, p.n, this.owner.identity, new Date(o.now()).toISOString());
        full = null;
        this.status.snapshotsWritten++;
        this.status.bytesShipped += written.bytes;
        p.snapshotSeq = p.toSeq;
        p.snapshotSegment = p.n;
      }
      break;
    }
    this.shippedGen.set(userId, Math.max(gen, this.shippedGen.get(userId) ?? 0));
    const since = this.pendingSince.get(userId);
    if (since !== undefined && p.toSeq >= (this.owner.seqSeen.get(userId) ?? 0)) {
      this.delays.push(o.now() - since);
      if (this.delays.length > 100_000) this.delays.splice(0, 50_000);
      this.pendingSince.delete(userId);
    }
    this.owner.shipped(userId, p.lastShippedAt);
    return p.snapshotSeq >= 0 ? names.snapshot(userId, p.snapshotSeq, p.snapshotSegment) : null;
  }

  /** One pass over every user (used by commands): ships what is missing; with `forceSnapshot`, snapshots everyone at their newest state. */
  async passOnce(forceSnapshot: boolean, onUser?: (done: number, total: number) => void): Promise<Map<string, string>> {
    if (!this.indexLoaded) await this.loadIndex();
    const seqs = await this.owner.store.listUserSeqs();
    const out = new Map<string, string>();
    let done = 0;
    let next = 0;
    let failure: unknown = null;
    const worker = async () => {
      while (next < seqs.length && failure === null) {
        const { userId } = seqs[next++];
        onUser?.(done++, seqs.length);
        try {
          const snap = await this.shipUser(userId, forceSnapshot);
          if (snap) out.set(userId, snap);
        } catch (e) {
          failure = e;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.owner.options.parallelUsers, seqs.length) }, worker));
    if (failure !== null) throw failure;
    return out;
  }

  private async writeSegment(
    userId: string,
    p: UserProgress | null,
    batch: BackupBatch,
    meta: { account: string; blobs: string },
    gen: number,
  ): Promise<UserProgress> {
    const o = this.owner.options;
    const [oldAccount, oldBlobs] = (p?.metaHash ?? '.').split('.');
    const n = (p?.n ?? 0) + 1;
    const fromSeq = p?.toSeq ?? 0;
    const shippedAt = new Date(o.now()).toISOString();
    if (meta.blobs !== oldBlobs) await this.shipBlobs(batch.blobRefs);
    const seg: SegmentPayload = {
      format: 1,
      userId,
      n,
      fromSeq,
      toSeq: batch.upTo,
      shippedAt,
      server: this.owner.identity,
      collections: batch.collections,
      metaHash: `${meta.account}.${meta.blobs}`,
      records: batch.records,
    };
    if (meta.account !== oldAccount || n === 1) seg.account = { user: batch.user, tokens: batch.tokens };
    if (meta.blobs !== oldBlobs || n === 1) seg.blobRefs = batch.blobRefs;
    const name = names.segment(userId, n, fromSeq, batch.upTo);
    const bytes = await this.putChecked(name, 'segment', Buffer.from(JSON.stringify(seg), 'utf8'));
    this.status.segmentsShipped++;
    this.status.bytesShipped += bytes;
    this.status.lastShipAt = shippedAt;
    const next: UserProgress = {
      n,
      lastName: name,
      toSeq: batch.upTo,
      metaHash: seg.metaHash,
      snapshotSeq: p?.snapshotSeq ?? -1,
      snapshotSegment: p?.snapshotSegment ?? 0,
      lastShippedAt: shippedAt,
    };
    this.progress.set(userId, next);
    if (batch.complete) this.shippedGen.set(userId, Math.max(gen, this.shippedGen.get(userId) ?? 0));
    this.owner.shipped(userId, shippedAt);
    return next;
  }

  /** Writes an object and reads it straight back to check it landed intact. */
  private async putChecked(name: string, type: 'segment' | 'blob', payload: Buffer): Promise<number> {
    const created = await this.repo.put(name, type, payload, type !== 'blob');
    // An object that already existed (a blob another user has, a range shipped before a crash) is
    // not ours to re-check here; verification reads everything.
    if (!created) return 0;
    const back = await this.repo.target.get(name);
    if (!back) throw new Error(`backup object ${name} is not readable right after it was written`);
    checkObject(name, back);
    return back.length;
  }

  private async shipBlobs(refs: string[]): Promise<void> {
    const known = await this.blobsOnTarget();
    for (const hash of refs) {
      if (known.has(hash)) continue;
      const stream = await this.owner.blobs.get(hash);
      if (!stream) {
        this.owner.options.log.warn({ blob: hash }, 'a referenced photo blob is missing from the blob store; not backed up');
        continue;
      }
      const chunks: Uint8Array[] = [];
      for await (const c of stream) chunks.push(c);
      const bytes = await this.putChecked(names.blob(hash), 'blob', Buffer.concat(chunks));
      this.status.bytesShipped += bytes;
      known.add(hash);
    }
  }
}

/**
 * Ships the store's change log to every configured target, each target on its own loop with its
 * own progress (kept on the target itself: the segment names), so a slow or broken target only
 * makes its own lag grow. Call {@link BackupShipper.changed} after a write to ship at once.
 */
export class BackupShipper {
  running = false;
  readonly options: ShipperOptions;
  readonly dirtyGen = new Map<string, number>();
  /** Highest sequence number a write reported per user (lag is measured until a target has it). */
  readonly seqSeen = new Map<string, number>();
  private readonly targets: TargetShipper[];
  private readonly loops: Promise<void>[] = [];
  private waiters: Waiter[] = [];
  private readonly lastBackedUp = new Map<string, string>();
  identity = { id: 'unknown', epoch: 0 };

  constructor(
    readonly store: RecordStore,
    readonly blobs: BlobStore,
    repos: BackupRepository[],
    options: Partial<ShipperOptions> = {},
  ) {
    this.options = { ...DEFAULT_SHIPPER_OPTIONS, ...options };
    this.targets = repos.map((r) => new TargetShipper(this, r));
  }

  async start(): Promise<void> {
    const id = await this.store.identity();
    this.identity = { id: id.id, epoch: id.epoch };
    this.running = true;
    for (const t of this.targets) this.loops.push(t.run());
  }

  /** Stops after the current step; what was shipped stays shipped. */
  async stop(): Promise<void> {
    this.running = false;
    for (const t of this.targets) t.poke();
    await Promise.all(this.loops);
    for (const w of this.waiters) w.resolve();
    this.waiters = [];
  }

  /** Records that the user's data changed (a write just committed): every target ships soon. */
  changed(userId: string, metaOnly = false, seq = 0): number {
    if (seq > (this.seqSeen.get(userId) ?? 0)) this.seqSeen.set(userId, seq);
    const gen = (this.dirtyGen.get(userId) ?? 0) + (metaOnly ? 1 : 0);
    if (metaOnly) this.dirtyGen.set(userId, gen);
    const now = this.options.now();
    for (const t of this.targets) {
      if (!metaOnly && !t.pendingSince.has(userId)) t.pendingSince.set(userId, now);
      t.poke();
    }
    return gen;
  }

  /** Resolves once at least one target holds the user's log up to `seq` (and metadata change `gen`). */
  waitShipped(userId: string, seq: number, gen = 0, timeoutMs = 30_000): Promise<void> {
    if (this.isShipped(userId, seq, gen)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new KeepsakeError('unavailable', `the write is committed but not yet in any backup target after ${timeoutMs / 1000} s (durability=backup); retry`));
      }, timeoutMs);
      const waiter: Waiter = {
        userId,
        seq,
        gen,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      this.waiters.push(waiter);
    });
  }

  private isShipped(userId: string, seq: number, gen: number): boolean {
    return this.targets.some((t) => (t.progress.get(userId)?.toSeq ?? -1) >= seq && (t.shippedGen.get(userId) ?? 0) >= gen);
  }

  /** Called by a target after it shipped (part of) a user. */
  shipped(userId: string, at: string | null): void {
    if (at) this.lastBackedUp.set(userId, at);
    if (this.waiters.length === 0) return;
    const still: Waiter[] = [];
    for (const w of this.waiters) {
      if (w.userId === userId && this.isShipped(w.userId, w.seq, w.gen)) w.resolve();
      else still.push(w);
    }
    this.waiters = still;
  }

  /** Ships everything once to every target without starting the loops; returns each target's snapshot per user. */
  async passOnce(forceSnapshot: boolean, onUser?: (done: number, total: number) => void): Promise<Array<Map<string, string>>> {
    const id = await this.store.identity();
    this.identity = { id: id.id, epoch: id.epoch };
    const out: Array<Map<string, string>> = [];
    for (const t of this.targets) out.push(await t.passOnce(forceSnapshot, onUser));
    return out;
  }

  /** Per-target health. */
  status(): TargetStatus[] {
    return this.targets.map((t) => {
      t.updateLag();
      return { ...t.status };
    });
  }

  /** When this user's data last reached a target, and whether every change has. */
  userStatus(userId: string): { lastBackedUpAt: string | null; upToDate: boolean } {
    const upToDate = this.targets.some((t) => t.status.state === 'ok' && !t.pendingSince.has(userId));
    return { lastBackedUpAt: this.lastBackedUp.get(userId) ?? null, upToDate };
  }

  /** Milliseconds from a change being seen to it being shipped, per target (for benchmarks). */
  shippingDelays(): number[][] {
    return this.targets.map((t) => [...t.delays]);
  }

  /** Records the outcome of a verify run so status shows it without re-reading the target. */
  noteVerification(target: string, v: Pick<VerificationPayload, 'at' | 'ok' | 'mode'>): void {
    for (const t of this.targets) if (t.status.target === target) t.status.lastVerification = v;
  }
}
