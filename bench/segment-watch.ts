// Backup lag as the benchmark sees it: when each acknowledged write's segment lands on the target, seen through inotify.
import { type FSWatcher, watch } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';

/** Highest `toSeq` in a list of segment names (`<n:10>-<from:12>-<to:12>`). */
function highestToSeq(names: Iterable<string>): number {
  let max = 0;
  for (const n of names) max = Math.max(max, Number(n.slice(24, 36)) || 0);
  return max;
}

/**
 * Measures, per acknowledged write, the time until a segment covering it is on the target.
 * Each user's `users/<id>/seg` directory is watched (fs.watch: one event per segment linked into
 * place), with a listing once a second as a safety net. Until 2026-12-07 the benchmark listed
 * every busy user's directory every 10 ms instead: with a few hundred segments per directory
 * that cost the benchmark process ~0.4 ms of CPU per listing, about a quarter of a core, taken
 * from the server on the 2-core machine in backup-on runs only.
 */
export class SegmentLagWatch {
  readonly lags: number[] = [];
  private readonly pending = new Map<string, Array<{ seq: number; at: number }>>();
  private readonly shipped = new Map<string, number>();
  private readonly watchers = new Map<string, FSWatcher>();
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly repoDir: string) {
    this.timer = setInterval(() => void this.sweep(), 1000);
  }

  /** A write of `user` was acknowledged with sequence number `seq`. */
  acked(user: string, seq: number): void {
    if (seq <= (this.shipped.get(user) ?? 0)) {
      this.lags.push(0); // its segment landed before the answer did
      return;
    }
    let list = this.pending.get(user);
    if (!list) this.pending.set(user, (list = []));
    // Keep per-user lists ordered by seq (acks of one user can arrive out of order).
    const e = { seq, at: performance.now() };
    let i = list.length;
    while (i > 0 && list[i - 1].seq > e.seq) i--;
    list.splice(i, 0, e);
    if (!this.watchers.has(user)) this.attach(user);
  }

  /** Whether some acknowledged write is not shipped yet. */
  get waiting(): boolean {
    return [...this.pending.values()].some((l) => l.length > 0);
  }

  close(): void {
    clearInterval(this.timer);
    for (const w of this.watchers.values()) w.close();
    this.watchers.clear();
  }

  private reached(user: string, toSeq: number): void {
    if (toSeq <= (this.shipped.get(user) ?? 0)) return;
    this.shipped.set(user, toSeq);
    const list = this.pending.get(user);
    const now = performance.now();
    while (list?.length && list[0].seq <= toSeq) this.lags.push(now - list.shift()!.at);
  }

  /** Watches the user's segment directory once the shipper created it. */
  private attach(user: string): void {
    const dir = join(this.repoDir, 'users', user, 'seg');
    try {
      const w = watch(dir, (_event, name) => {
        if (name) this.reached(user, highestToSeq([name.toString()]));
      });
      w.on('error', () => this.watchers.delete(user));
      this.watchers.set(user, w);
    } catch {
      return; // not there yet: the sweep tries again
    }
    void this.list(user); // segments that landed before the watch started
  }

  private async list(user: string): Promise<void> {
    try {
      this.reached(user, highestToSeq(await readdir(join(this.repoDir, 'users', user, 'seg'))));
    } catch {
      // not there yet
    }
  }

  private async sweep(): Promise<void> {
    for (const [user, list] of this.pending) {
      if (list.length === 0) continue;
      if (!this.watchers.has(user)) this.attach(user);
      else await this.list(user);
    }
  }
}
