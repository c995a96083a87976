// Restore leases: a running restore names the objects it reads, and prune leaves them alone until the lease ends.
import { randomBytes } from 'node:crypto';
import type { BackupRepository } from './repository.js';
import { names, type RestoreLeasePayload } from './repository-format.js';

/** Default lease: long enough for a full-site restore of a large instance. */
export const DEFAULT_LEASE_MS = 24 * 3600 * 1000;

/**
 * Writes `leases/<time>-<nonce>` naming `objects` (snapshots, segments, data objects a restore is
 * about to read). Until `until`, prune neither marks nor deletes them. Leases are write-once like
 * everything else and simply expire; prune removes expired ones. Returns the lease's name.
 */
export async function takeRestoreLease(repo: BackupRepository, objects: string[], purpose: string, ttlMs = DEFAULT_LEASE_MS, now = Date.now()): Promise<string> {
  const at = new Date(now).toISOString();
  const payload: RestoreLeasePayload = { at, until: new Date(now + ttlMs).toISOString(), purpose, objects: [...new Set(objects)].sort() };
  const name = names.lease(at, randomBytes(3).toString('hex'));
  await repo.putJson(name, 'pruneMark', payload);
  return name;
}

/** Objects pinned by unexpired leases, and the names of expired leases (removable). */
export async function readLeases(repo: BackupRepository, now: number): Promise<{ pinned: Set<string>; expired: string[] }> {
  const pinned = new Set<string>();
  const expired: string[] = [];
  for (const l of await repo.listNames('leases/')) {
    const lease = await repo.getJson<RestoreLeasePayload>(l.name, 'pruneMark');
    if (Date.parse(lease.until) <= now) expired.push(l.name);
    else for (const o of lease.objects) pinned.add(o);
  }
  return { pinned, expired };
}
