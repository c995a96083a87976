// Where an online restore stands, per user and per category, so the API can tell each user
// what is back and refuse reads of what is not (instead of serving a partial collection).
import { fail } from '../errors.js';
import { KINDS, type Kind } from '../kinds.js';
import type { Clock } from '../ports/clock.js';

/** pending → restoring → restored → verified; `quarantined` when validation failed. */
export type CategoryState = 'pending' | 'restoring' | 'restored' | 'verified' | 'quarantined';

export interface CategoryProgress {
  kind: Kind;
  state: CategoryState;
  items: number;
  done: number;
  /** Seconds until this category is back, from the overall throughput; null when unknown. */
  etaSeconds: number | null;
}

export interface OverallCategory {
  kind: Kind;
  users: Record<CategoryState, number>;
  items: number;
  done: number;
}

export interface OverallProgress {
  running: boolean;
  /** False while the restore is still being planned (nothing is known about users yet). */
  planned: boolean;
  startedAt: string | null;
  finishedAt: string | null;
  itemsPerSecond: number;
  etaSeconds: number | null;
  categories: OverallCategory[];
}

interface Entry {
  state: CategoryState;
  items: number;
  done: number;
}

const AVAILABLE: CategoryState[] = ['restored', 'verified'];

const noUsers = (): Record<CategoryState, number> => ({ pending: 0, restoring: 0, restored: 0, verified: 0, quarantined: 0 });

/** In-process record of a running (or finished) restore. Users not in the plan are unaffected. */
export class RestoreTracker {
  private readonly entries = new Map<string, Map<Kind, Entry>>();
  /** Per kind, the sums over every user's entry, kept as entries change (the operator view reads them often). */
  private readonly totals = new Map<Kind, { users: Record<CategoryState, number>; items: number; done: number }>();
  private startedAt: number | null = null;
  private finishedAt: number | null = null;
  private doneTotal = 0;
  /** The priority order of the plan; the ETA of a category counts everything queued before it. */
  private priority: Kind[] = [...KINDS];
  /** Between "a restore will run" and its plan: every user's data counts as not back yet. */
  private planning = false;
  /** Until accounts are restored, unknown credentials may belong to an account not back yet. */
  private accountsPending = false;

  constructor(private readonly clock: Clock) {}

  /**
   * Marks that an online restore is about to be planned: until `plan` is called, every read of
   * every user answers `restoring`, so no device syncs against a store that is still empty.
   */
  expectRestore(): void {
    this.planning = true;
    this.accountsPending = true;
    this.startedAt = this.clock.now();
  }

  /** Registers what will be restored. Every entry starts `pending`. */
  plan(entries: Array<{ userId: string; kind: Kind; items: number }>, priority: Kind[] = [...KINDS]): void {
    this.priority = priority;
    this.planning = false;
    this.startedAt = this.clock.now();
    this.finishedAt = null;
    for (const e of entries) {
      let m = this.entries.get(e.userId);
      if (!m) this.entries.set(e.userId, (m = new Map()));
      const old = m.get(e.kind);
      if (old) this.count(e.kind, old, -1);
      const entry: Entry = { state: 'pending', items: e.items, done: 0 };
      m.set(e.kind, entry);
      this.count(e.kind, entry, 1);
    }
  }

  /** Adds (or with -1 removes) an entry to its kind's totals. */
  private count(kind: Kind, e: Entry, sign: 1 | -1): void {
    let t = this.totals.get(kind);
    if (!t) this.totals.set(kind, (t = { users: noUsers(), items: 0, done: 0 }));
    t.users[e.state] += sign;
    t.items += sign * e.items;
    t.done += sign * e.done;
  }

  set(userId: string, kind: Kind, state: CategoryState): void {
    const e = this.entries.get(userId)?.get(kind);
    if (!e) return;
    this.count(kind, e, -1);
    if (state === 'restored' || state === 'verified') {
      this.doneTotal += e.items - e.done;
      e.done = e.items;
    }
    e.state = state;
    this.count(kind, e, 1);
  }

  /** All accounts (with password hashes and device tokens) are back. */
  accountsRestored(): void {
    this.accountsPending = false;
  }

  /**
   * For a login that failed: while accounts are still being restored, answer `restoring` (the
   * account may simply not be back yet) instead of letting a device think its token was revoked.
   */
  requireAccountsBack(): void {
    if (this.accountsPending) fail('restoring', 'accounts are being restored from backup; retry in a few seconds', { retryAfter: 5 });
  }

  /** Counts restored items of a category as they land. */
  advance(userId: string, kind: Kind, items: number): void {
    const e = this.entries.get(userId)?.get(kind);
    if (!e) return;
    const n = Math.min(items, e.items - e.done);
    e.done += n;
    this.doneTotal += n;
    this.totals.get(kind)!.done += n;
  }

  finish(): void {
    this.accountsPending = false;
    this.finishedAt = this.clock.now();
  }

  /** Whether any restore state concerns this user (cheap: lets callers skip looking up kinds). */
  affects(userId: string): boolean {
    return this.planning || this.entries.has(userId);
  }

  /** True unless this user's category is part of a restore and not back yet. */
  isAvailable(userId: string, kind: Kind): boolean {
    if (this.planning) return false;
    const e = this.entries.get(userId)?.get(kind);
    return !e || AVAILABLE.includes(e.state);
  }

  /** Throws `restoring` (with a retry hint) when any of the kinds is not back for this user. */
  requireAvailable(userId: string, kinds: readonly Kind[]): void {
    const waiting = kinds.filter((k) => !this.isAvailable(userId, k));
    if (waiting.length === 0) return;
    const held = waiting.filter((k) => this.entries.get(userId)?.get(k)?.state === 'quarantined');
    if (held.length > 0) {
      fail('restoring', `your ${held.join(', ')} could not be validated after the restore and ${held.length > 1 ? 'are' : 'is'} held back rather than shown incomplete; the administrator has been told`, {
        categories: waiting,
        quarantined: held,
        retryAfter: 300,
      });
    }
    const eta = Math.max(5, ...waiting.map((k) => this.etaFor(userId, k) ?? 30));
    fail('restoring', `your ${waiting.join(', ')} ${waiting.length > 1 ? 'are' : 'is'} being restored from backup; retry in about ${Math.ceil(eta)} s`, {
      categories: waiting,
      retryAfter: Math.min(300, Math.ceil(eta)),
    });
  }

  /** This user's categories, or an empty list when the user is not part of a restore. */
  forUser(userId: string): CategoryProgress[] {
    if (this.planning) return KINDS.map((kind) => ({ kind, state: 'pending' as const, items: 0, done: 0, etaSeconds: null }));
    const m = this.entries.get(userId);
    if (!m) return [];
    return [...m].map(([kind, e]) => ({ kind, state: e.state, items: e.items, done: e.done, etaSeconds: AVAILABLE.includes(e.state) ? 0 : this.etaFor(userId, kind) }));
  }

  overall(): OverallProgress {
    const now = this.clock.now();
    const elapsed = this.startedAt === null ? 0 : ((this.finishedAt ?? now) - this.startedAt) / 1000;
    const rate = elapsed > 0 ? this.doneTotal / elapsed : 0;
    const categories = this.priority.map((kind): OverallCategory => {
      const t = this.totals.get(kind);
      return { kind, users: t ? { ...t.users } : noUsers(), items: t?.items ?? 0, done: t?.done ?? 0 };
    });
    const remaining = categories.reduce((n, c) => n + c.items - c.done, 0);
    return {
      running: this.planning || (this.startedAt !== null && this.finishedAt === null),
      planned: !this.planning && this.startedAt !== null,
      startedAt: this.startedAt === null ? null : new Date(this.startedAt).toISOString(),
      finishedAt: this.finishedAt === null ? null : new Date(this.finishedAt).toISOString(),
      itemsPerSecond: rate,
      etaSeconds: this.finishedAt !== null ? 0 : rate > 0 ? remaining / rate : null,
      categories,
    };
  }

  /** Items queued before and including this one (priority order, all users), over the throughput. */
  private etaFor(userId: string, kind: Kind): number | null {
    const o = this.overall();
    if (o.itemsPerSecond <= 0) return null;
    const rank = this.priority.indexOf(kind);
    let ahead = 0;
    for (const c of o.categories) if (this.priority.indexOf(c.kind) < rank) ahead += c.items - c.done;
    const own = this.entries.get(userId)?.get(kind);
    return (ahead + (own ? own.items - own.done : 0)) / o.itemsPerSecond;
  }
}
