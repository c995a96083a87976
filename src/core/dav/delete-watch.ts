// The mass-deletion guard for DAV clients: a DAV client cannot confirm a mass delete, so each
// delete is applied (it goes to the trash) and recorded; bursts by one device over the guard's
// share of a collection are shown in /api/v1/status and undone with POST /api/v1/undo-deletes.
import type { MassDeleteLimits } from '../sync/mass-delete-guard.js';

/** One delete done over DAV, as recorded. */
export interface DavDelete {
  device: string;
  deviceId: string | null;
  collection: string;
  id: string;
  /** Version of the tombstone the delete wrote. */
  version: number;
  /** Unix milliseconds. */
  at: number;
  /** Live items left in the collection after this delete. */
  liveAfter: number;
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
/** How long deletes are remembered for undo (the trash keeps the items longer). */
export const REMEMBER_MS = 7 * 24 * 3600_000;

/**
 * Groups recorded deletes into bursts (same device and collection, each delete within the window
 * of the burst's first) and returns those over the guard, newest first. Pure: the caller loads
 * the records.
 */
export function massDeletionsOf(deletes: DavDelete[], limits: MassDeleteLimits): MassDeletion[] {
  const sorted = [...deletes].sort((a, b) => a.at - b.at);
  const bursts = new Map<string, DavDelete[][]>();
  for (const d of sorted) {
    const key = `${d.device}\u0000${d.collection}`;
    const list = bursts.get(key) ?? [];
    const current = list[list.length - 1];
    if (current && d.at - current[0].at < DELETE_WINDOW_MS) current.push(d);
    else list.push([d]);
    bursts.set(key, list);
  }
  const out: MassDeletion[] = [];
  for (const list of bursts.values()) {
    for (const burst of list) {
      const first = burst[0];
      const liveBefore = first.liveAfter + 1;
      if (liveBefore <= limits.minItems || burst.length <= liveBefore * limits.share) continue;
      out.push({
        device: first.device,
        deviceId: first.deviceId,
        collection: first.collection,
        deletes: burst.length,
        liveBefore,
        since: new Date(first.at).toISOString(),
        last: new Date(burst[burst.length - 1].at).toISOString(),
      });
    }
  }
  return out.sort((a, b) => b.last.localeCompare(a.last));
}

/** Deletes by `device` (its name or token id) at or after `since`, oldest first. */
export function deletesSince(deletes: DavDelete[], device: string, since: number): DavDelete[] {
  return deletes.filter((d) => (d.device === device || d.deviceId === device) && d.at >= since).sort((a, b) => a.at - b.at);
}
