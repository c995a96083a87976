// Scrub: recomputes every hash, digest and count from the stored bytes and names what is damaged (invariant 7).
import { createHash } from 'node:crypto';
import { digestAdd, EMPTY_DIGEST } from '../core/digest.js';
import type { IntegrityProblem } from '../core/errors.js';
import { contentHash, isContentHash } from '../core/hash.js';
import type { Collection, StoredItem, User } from '../core/model.js';
import type { BlobStore } from '../core/ports/blob-store.js';
import type { RecordStore } from '../core/ports/record-store.js';

/** Items read per `listItems` call; bounds memory whatever the size of an account. */
export const SCRUB_PAGE = 500;

/** What a scrub looked at and what it found. An empty `problems` means everything verified. */
export interface ScrubReport {
  users: number;
  collections: number;
  /** Item rows read, tombstones included. */
  items: number;
  /** Distinct blobs whose bytes were hashed. */
  blobs: number;
  problems: IntegrityProblem[];
}

/** Reported after each collection and each blob-store page, so a CLI can show it is alive. */
export interface ScrubProgress {
  phase: 'items' | 'blobs';
  user?: string;
  collection?: string;
  items: number;
  blobs: number;
  problems: number;
}

/** The verdict on one blob's bytes, cached so a blob shared by many photos is hashed once. */
type BlobVerdict = { ok: true; size: number } | { ok: false; problem: string; hint: string };

/**
 * Walks every user, every collection (deleted ones too) and every item page, then every blob
 * in the blob store. Checks, from the stored bytes:
 * - each live item's `hash` is `contentHash(content)`;
 * - each collection's stored `count` and `digest` equal those recomputed from its live items;
 * - each live photo's blob exists, hashes to its name and has the size the photo claims;
 * - each blob in the blob store hashes to its name.
 * It only reads: repairing is a restore, chosen by a person who has read the report.
 */
export async function scrub(
  store: RecordStore,
  blobs: BlobStore,
  onProgress?: (p: ScrubProgress) => void,
): Promise<ScrubReport> {
  const report: ScrubReport = { users: 0, collections: 0, items: 0, blobs: 0, problems: [] };
  const verdicts = new Map<string, BlobVerdict>();
  const progress = (p: Omit<ScrubProgress, 'items' | 'blobs' | 'problems'>) =>
    onProgress?.({ ...p, items: report.items, blobs: report.blobs, problems: report.problems.length });

  const verifyBlob = async (hash: string): Promise<BlobVerdict> => {
    let v = verdicts.get(hash);
    if (!v) {
      v = await hashBlob(blobs, hash);
      verdicts.set(hash, v);
      report.blobs++;
    }
    return v;
  };

  for (const user of await store.listUsers()) {
    report.users++;
    for (const col of await store.listCollections(user.id, { includeDeleted: true })) {
      report.collections++;
      await scrubCollection(store, user, col, report, verifyBlob);
      progress({ phase: 'items', user: user.name, collection: col.id });
    }
  }

  // Blobs no photo item points at (or that a damaged item no longer names) are still user data.
  let sinceProgress = 0;
  for await (const hash of blobs.list()) {
    // Reported here once per blob, even if a photo item already named it: the item problem
    // says which photo is affected, this one says which stored object is bad.
    const v = await verifyBlob(hash);
    if (!v.ok) report.problems.push({ user: await blobOwners(store, hash), blob: hash, problem: v.problem, hint: v.hint });
    if (++sinceProgress >= SCRUB_PAGE) {
      sinceProgress = 0;
      progress({ phase: 'blobs' });
    }
  }
  progress({ phase: 'blobs' });
  return report;
}

async function scrubCollection(
  store: RecordStore,
  user: User,
  col: Collection,
  report: ScrubReport,
  verifyBlob: (hash: string) => Promise<BlobVerdict>,
): Promise<void> {
  const where = { user: user.name, collection: col.id };
  let digest = EMPTY_DIGEST;
  let count = 0;
  let afterId: string | undefined;
  for (;;) {
    const page = await store.listItems(user.id, col.id, { afterId, limit: SCRUB_PAGE, includeDeleted: true });
    for (const item of page) {
      report.items++;
      if (item.deleted) continue;
      count++;
      // The digest covers the stored hash: a wrong hash is reported once, as an item problem,
      // and the digest check then says whether the collection's bookkeeping agrees with the rows.
      digest = digestAdd(digest, item.id, item.hash);
      const problem = checkItem(item);
      if (problem) {
        report.problems.push({ ...where, item: item.id, ...problem });
        continue;
      }
      if (col.kind === 'photos') {
        const p = await checkPhoto(item, verifyBlob);
        if (p) report.problems.push({ ...where, item: item.id, ...p });
      }
    }
    if (page.length < SCRUB_PAGE) break;
    afterId = page[page.length - 1].id;
  }
  if (count !== col.count) {
    report.problems.push({
      ...where,
      problem: `collection count is ${col.count} but it holds ${count} live items`,
      hint: 'the collection bookkeeping is out of step with its items; restore the collection from a verified backup',
    });
  }
  if (digest !== col.digest) {
    report.problems.push({
      ...where,
      problem: `collection digest ${col.digest.slice(0, 16)}… differs from ${digest.slice(0, 16)}… recomputed from its live items`,
      hint: 'devices comparing digests will see a mismatch; restore the collection from a verified backup',
    });
  }
}

function checkItem(item: StoredItem): Omit<IntegrityProblem, 'user'> | null {
  if (item.content === null) {
    return { problem: `live version ${item.version} has no content`, hint: 'restore this item from a revision or a verified backup' };
  }
  const actual = contentHash(item.content);
  if (actual !== item.hash) {
    return {
      problem: `stored content of version ${item.version} hashes to ${actual}, not to its recorded ${item.hash}`,
      hint: 'the stored bytes were damaged after they were written; restore this item from a revision or a verified backup',
    };
  }
  return null;
}

async function checkPhoto(item: StoredItem, verifyBlob: (hash: string) => Promise<BlobVerdict>): Promise<Omit<IntegrityProblem, 'user'> | null> {
  let meta: { blob?: unknown; size?: unknown };
  try {
    meta = JSON.parse(item.content!) as { blob?: unknown; size?: unknown };
  } catch {
    return { problem: 'photo metadata is not JSON', hint: 'restore this item from a revision or a verified backup' };
  }
  if (!isContentHash(meta.blob)) {
    return { problem: 'photo metadata names no valid blob', hint: 'restore this item from a revision or a verified backup' };
  }
  const v = await verifyBlob(meta.blob);
  if (!v.ok) return { blob: meta.blob, problem: `photo's blob: ${v.problem}`, hint: v.hint };
  if (v.size !== meta.size) {
    return { blob: meta.blob, problem: `photo says ${String(meta.size)} bytes but its blob holds ${v.size}`, hint: 'restore this item from a revision or a verified backup' };
  }
  return null;
}

/** Streams the blob through SHA-256; reading errors are reported, not thrown. */
async function hashBlob(blobs: BlobStore, hash: string): Promise<BlobVerdict> {
  const restore = 'restore the blob from a verified backup (backups are content-addressed, so the name finds it)';
  try {
    const body = await blobs.get(hash);
    if (!body) return { ok: false, problem: `blob ${hash} is missing from the blob store`, hint: restore };
    const h = createHash('sha256');
    let size = 0;
    for await (const chunk of body) {
      h.update(chunk);
      size += chunk.length;
    }
    const actual = 'sha256:' + h.digest('hex');
    if (actual !== hash) return { ok: false, problem: `blob ${hash} holds ${size} bytes that hash to ${actual}`, hint: restore };
    return { ok: true, size };
  } catch (e) {
    return { ok: false, problem: `blob ${hash} cannot be read: ${(e as Error).message}`, hint: restore };
  }
}

/** Names of the users who uploaded a blob; only called for damaged blobs. */
async function blobOwners(store: RecordStore, hash: string): Promise<string> {
  const names: string[] = [];
  for (const u of await store.listUsers()) if (await store.hasBlobRef(u.id, hash)) names.push(u.name);
  return names.join(', ');
}
