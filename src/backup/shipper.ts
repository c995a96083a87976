// Continuous backup: ships every committed change to each target as change segments, within about a second.
import type { BlobStore } from '../core/ports/blob-store.js';
import type { RecordStore } from '../core/ports/record-store.js';
import { KeepsakeError } from '../core/errors.js';
import type { ChangeOutcome } from '../core/model.js';
import type { BackupRepository } from './repository.js';
import { RecentWrites } from './recent-writes.js';
import type { VerificationPayload } from './repository-format.js';
import { DEFAULT_SHIPPER_OPTIONS, type ShipperOptions, type TargetStatus } from './shipper-options.js';
import { type PendingTarget, TargetShipper } from './target-shipper.js';

export { type BackupLog, DEFAULT_SHIPPER_OPTIONS, silentLog, type ShipperOptions, type TargetStatus } from './shipper-options.js';
export type { PendingTarget } from './target-shipper.js';

interface Waiter {
  userId: string;
  seq: number;
  gen: number;
  resolve(): void;
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
  /** Rows this server's writes committed that some shipping target still lacks (read instead of the store's copy). */
  readonly recent = new RecentWrites();
  private readonly targets: TargetShipper[];
  private readonly loops: Promise<void>[] = [];
  private waiters: Waiter[] = [];
  private readonly lastBackedUp = new Map<string, string>();
  identity = { id: 'unknown', epoch: 0 };

  constructor(
    readonly store: RecordStore,
    readonly blobs: BlobStore,
    repos: Array<BackupRepository | PendingTarget>,
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
    await Promise.all(this.targets.map((t) => t.close()));
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

  /** Keeps the rows a committed `applyChanges` reports, so targets ship them without reading them back. */
  committed(userId: string, outcomes: readonly ChangeOutcome[]): void {
    const floor = this.shippedFloor(userId);
    if (floor !== null) this.recent.add(userId, outcomes, floor);
  }

  /** How far every target that is not failing has the user; null when all are failing (they read from the store when back). */
  private shippedFloor(userId: string): number | null {
    let floor: number | null = null;
    for (const t of this.targets) {
      if (t.status.state === 'failing') continue;
      const seq = t.progress.get(userId)?.toSeq ?? 0;
      floor = floor === null ? seq : Math.min(floor, seq);
    }
    return floor;
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
    this.recent.forget(userId, this.shippedFloor(userId) ?? Number.MAX_SAFE_INTEGER);
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
    try {
      for (const t of this.targets) out.push(await t.passOnce(forceSnapshot, onUser));
    } finally {
      // The writers' worker threads stop with the pass, unless the shipping loops still use them.
      if (!this.running) await Promise.all(this.targets.map((t) => t.close()));
    }
    return out;
  }

  /** The repositories of targets that are open (a target unreachable since start-up is not, yet). */
  repositories(): BackupRepository[] {
    return this.targets.filter((t) => t.isOpen).map((t) => t.repo);
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
