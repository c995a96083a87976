// The mass-deletion guard for DAV clients: a DAV client cannot confirm a mass delete, so each
// delete is applied (it goes to the trash) and many deletes by one device in a short window are
// recorded, shown in /api/v1/status, and undone together with POST /api/v1/undo-deletes.
import type { MassDeleteLimits } from '../sync/mass-delete-guard.js';

/** One delete done over DAV. */
export interface DavDelete {
  collection: string;
  id: string;
  /** Version of the tombstone the delete wrote. */
  version: number;
  at: number;
}

/** A burst of deletes by one device that went over the guard's share of a collection. */
export interface MassDeletion {
  device: string;
  deviceId: string | null;
  collection: string;
  deletes: number;
  /** Live items the collection had before the burst. */
  liveBefore: number;
  since: string;
  last: string;
}

/** How long deletes by one device count as one burst. */
export const DELETE_WINDOW_MS = 10 * 60_000;
/** How long deletes are remembered for undo (in this process). */
const REMEMBER_MS = 7 * 24 * 3600_000;
const MAX_PER_USER = 200_000;

interface UserLog {
  deletes: Array<DavDelete & { device: string; deviceId: string | null }>;
  events: MassDeletion[];
}

/**
 * Remembers DAV deletes per user and device. Pure bookkeeping: it never writes items itself.
 * Kept in process memory: the deletes themselves are durable in the change log and the trash,
 * so a restart loses only the grouping (the trash still holds every item).
 */
export class DeleteWatch {
  private readonly users = new Map<string, UserLog>();

  constructor(private readonly limits: MassDeleteLimits) {}

  private log(userId: string): UserLog {
    let l = this.users.get(userId);
    if (!l) this.users.set(userId, (l = { deletes: [], events: [] }));
    return l;
  }

  /**
   * Records one delete; `liveAfter` is the collection's live count after it. Returns the
   * mass deletion it belongs to when the device's burst has gone over the guard's share.
   */
  record(userId: string, device: { name: string; id: string | null }, d: DavDelete, liveAfter: number): MassDeletion | null {
    const l = this.log(userId);
    l.deletes = l.deletes.filter((x) => d.at - x.at < REMEMBER_MS).slice(-MAX_PER_USER);
    l.deletes.push({ ...d, device: device.name, deviceId: device.id });
    const burst = l.deletes.filter((x) => x.device === device.name && x.collection === d.collection && d.at - x.at < DELETE_WINDOW_MS);
    const liveBefore = liveAfter + burst.length;
    if (liveBefore <= this.limits.minItems || burst.length <= liveBefore * this.limits.share) return null;
    const since = new Date(burst[0].at).toISOString();
    let ev = l.events.find((e) => e.device === device.name && e.collection === d.collection && e.since === since);
    if (!ev) {
      ev = { device: device.name, deviceId: device.id, collection: d.collection, deletes: 0, liveBefore, since, last: since };
      l.events.push(ev);
    }
    ev.deletes = burst.length;
    ev.liveBefore = Math.max(ev.liveBefore, liveBefore);
    ev.last = new Date(d.at).toISOString();
    return ev;
  }

  /** Mass deletions recorded for the user, newest first. */
  massDeletions(userId: string): MassDeletion[] {
    return [...(this.users.get(userId)?.events ?? [])].reverse();
  }

  /** Deletes by `device` (its name or token id) at or after `since`, oldest first. */
  deletesSince(userId: string, device: string, since: number): DavDelete[] {
    return (this.users.get(userId)?.deletes ?? []).filter((d) => (d.device === device || d.deviceId === device) && d.at >= since);
  }

  /** Forgets mass-deletion records that an undo covered. */
  forgetEvents(userId: string, device: string, since: number): void {
    const l = this.users.get(userId);
    if (l) l.events = l.events.filter((e) => !((e.device === device || e.deviceId === device) && Date.parse(e.since) >= since));
  }
}
