// One target's shipping loop: what the target has of each user, and shipping what it lacks, in order.
import type { BackupBatch } from '../core/ports/record-store.js';
import { CheckedPut } from './checked-put.js';
import type { BackupRepository } from './repository.js';
import { names, type SegmentPayload, type VerificationPayload } from './repository-format.js';
import { joinMetaHash, type MetaHashes, metaHashes } from './meta-hash.js';
import { recordUserName } from './name-index.js';
import { segmentPayload } from './segment-payload.js';
import type { TargetStatus } from './shipper-options.js';
import type { BackupShipper } from './shipper.js';
import { snapshotFitsInline, writeSnapshot } from './snapshot.js';

/**
 * A target that may not be reachable yet: the shipper opens it in its loop (retrying with
 * backoff), so a backup disk that is missing, unmounted or refusing access at start-up does not
 * stop the server; its lag grows until it is back.
 */
export interface PendingTarget {
  description: string;
  open(): Promise<BackupRepository>;
  /** Why it could not be opened at start-up. */
  error: string;
}

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

/** One target's shipping loop and progress. */
export class TargetShipper {
  readonly progress = new Map<string, UserProgress>();
  readonly shippedGen = new Map<string, number>();
  /** userId → when the oldest unshipped change was first seen. */
  readonly pendingSince = new Map<string, number>();
  private knownBlobs: Set<string> | null = null;
  private writer: CheckedPut | null = null;
  private indexLoaded = false;
  status: TargetStatus;
  private wake: (() => void) | null = null;
  private poked = false;
  private failures = 0;
  private lastSweep = 0;
  /** Shipping delays (ms from first seen to shipped), for benchmarks. */
  readonly delays: number[] = [];

  private opened: BackupRepository | null;
  private readonly pending: PendingTarget | null;
  /** When the target was found unreachable before it was ever opened (lag counts from then). */
  private unreachableSince: number | null = null;

  constructor(
    private readonly owner: BackupShipper,
    target: BackupRepository | PendingTarget,
  ) {
    const pending = 'open' in target && !('target' in target) ? target : null;
    this.pending = pending;
    this.opened = pending ? null : (target as BackupRepository);
    this.status = {
      target: pending ? pending.description : (target as BackupRepository).target.description,
      state: pending ? 'failing' : 'starting',
      lastError: pending ? pending.error : null,
      lastErrorAt: pending ? new Date(owner.options.now()).toISOString() : null,
      lastShipAt: null,
      lagSeconds: 0,
      pendingUsers: 0,
      segmentsShipped: 0,
      snapshotsWritten: 0,
      bytesShipped: 0,
      lastVerification: null,
    };
  }

  /** The repository; throws until an unreachable target could be opened. */
  get repo(): BackupRepository {
    if (!this.opened) throw new Error(`backup target ${this.status.target} is not open`);
    return this.opened;
  }

  get isOpen(): boolean {
    return this.opened !== null;
  }

  /** Opens a target that was unreachable; until then every user counts as not backed up here. */
  private async open(): Promise<void> {
    if (this.opened || !this.pending) return;
    try {
      this.opened = await this.pending.open();
    } catch (e) {
      if (this.unreachableSince === null) {
        const now = this.owner.options.now();
        this.unreachableSince = now;
        // Nothing is known to be on this target: lag counts from now for every user.
        for (const { userId } of await this.owner.store.listUserSeqs()) if (!this.pendingSince.has(userId)) this.pendingSince.set(userId, now);
      }
      throw e;
    }
    this.owner.options.log.info({ target: this.status.target }, 'backup target reachable again; catching up');
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
      const passStart = performance.now();
      try {
        await this.open();
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
      const gather = Math.max(o.gatherMs, o.minPassIntervalMs - (performance.now() - passStart));
      if (this.owner.running && gather > 0) await new Promise((r) => setTimeout(r, gather));
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
      const snap = index.snapshots[index.snapshots.length - 1];
      // After a prune took every segment up to a snapshot, the floor and the snapshot say how far the target has the user.
      const maxN = Math.max(index.floor?.n ?? 0, snap?.segment ?? 0, ...index.segments.map((s) => s.n));
      this.progress.set(userId, {
        n: maxN,
        lastName: last?.name ?? null,
        toSeq: Math.max(last?.toSeq ?? 0, index.floor?.seq ?? 0, snap?.seq ?? 0),
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
      // A user's first shipment is read whole: it becomes segment 1 and, unless the user is small
      // enough that segment 1 is as good as a snapshot, the first snapshot.
      const first = !p || (p.snapshotSeq < 0 && p.n === 0);
      const read = first ? await this.owner.store.readBackupBatch(userId, 0, Number.MAX_SAFE_INTEGER) : await this.owner.recent.readBatchAfter(this.owner.store, userId, afterSeq, o.batchRecords);
      if (!read) {
        this.pendingSince.delete(userId); // the user is gone from the store: nothing left to ship
        this.owner.recent.forget(userId, Number.MAX_SAFE_INTEGER);
        return null;
      }
      const batch = first && afterSeq > 0 ? { ...read, records: read.records.filter((r) => r.version > afterSeq) } : read;
      const meta = metaHashes(batch);
      if (batch.records.length > 0 || p?.metaHash !== joinMetaHash(meta) || !p) {
        p = await this.writeSegment(userId, p ?? null, batch, meta, gen);
      }
      if (!batch.complete) continue;
      // Without a snapshot the log from 0 is the base: a new one is due as after a snapshot at 0.
      const due =
        (forceSnapshot && p.snapshotSeq !== p.toSeq) ||
        (first && !snapshotFitsInline(read)) ||
        p.toSeq - Math.max(0, p.snapshotSeq) >= o.snapshotEverySeqs ||
        p.n - p.snapshotSegment >= o.snapshotEverySegments;
      if (due) {
        let full = first ? read : await this.owner.store.readBackupBatch(userId, 0, Number.MAX_SAFE_INTEGER);
        if (!full) return null;
        if (full.seq > p.toSeq) {
          // Writes arrived meanwhile: ship them from the same read, so the snapshot sits exactly at a segment's end.
          const rest = { ...full, records: full.records.filter((r) => r.version > p!.toSeq) };
          const m = metaHashes(full);
          p = await this.writeSegment(userId, p, rest, m, gen);
        }
        this.writer ??= new CheckedPut(this.repo);
        const written = await writeSnapshot(this.repo, full, p.n, this.owner.identity, new Date(o.now()).toISOString(), this.writer);
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
    await this.open();
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
    meta: MetaHashes,
    gen: number,
  ): Promise<UserProgress> {
    const shippedAt = new Date(this.owner.options.now()).toISOString();
    const seg = segmentPayload(batch, p, meta, this.owner.identity, shippedAt);
    if (seg.blobRefs) await this.shipBlobs(seg.blobRefs);
    const { n } = seg;
    const name = names.segment(userId, n, seg.fromSeq, batch.upTo);
    const bytes = await this.putChecked(name, 'segment', JSON.stringify(seg));
    // The account rides along when it changed (a new user, a rename): keep the name findable.
    if (seg.account) await recordUserName(this.repo, seg.account.user, shippedAt);
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

  /** Writes an object and reads it straight back to check it landed intact (0: it existed already). */
  private putChecked(name: string, type: 'segment' | 'blob', payload: string | Uint8Array): Promise<number> {
    this.writer ??= new CheckedPut(this.repo);
    return this.writer.put(name, type, payload);
  }

  /** Stops the writer's worker thread (a later pass starts it again). */
  async close(): Promise<void> {
    const w = this.writer;
    this.writer = null;
    await w?.close();
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
