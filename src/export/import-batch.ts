// Import batching: dedup against what is stored, deterministic change ids, pushes of at most 1,000 through SyncService.
import { createHash } from 'node:crypto';
import { MAX_BATCH, type PushChange } from '../protocol/sync-protocol.js';
import { canonicalizeContent, type ContentLimits } from '../core/content/validate-content.js';
import { isKeepsakeError } from '../core/errors.js';
import type { Kind, User } from '../core/model.js';
import type { RecordStore } from '../core/ports/record-store.js';
import type { SyncService } from '../core/sync/sync-service.js';

/** One item an import could not store, and why. `id` is null when a whole file was refused. */
export interface ImportRejection {
  file: string;
  id: string | null;
  code: string;
  message: string;
}

/** What an import did. Running the same import again gives all `unchanged`. */
export interface ImportReport {
  created: number;
  unchanged: number;
  updated: number;
  /** Items someone changed while the import ran: the import's version is kept as a conflict revision. */
  conflicts: number;
  rejected: ImportRejection[];
}

/** Reported after every pushed batch. */
export interface ImportProgress {
  file: string;
  /** Items looked at so far in this file. */
  items: number;
  report: ImportReport;
}

export function emptyReport(): ImportReport {
  return { created: 0, unchanged: 0, updated: 0, conflicts: 0, rejected: [] };
}

/** An item read from an import file, not yet validated. */
export interface ImportItem {
  collection: string;
  kind: Kind;
  id: string;
  /** Wire content: vCard/iCalendar text, or the object for notes, photos and scores. */
  content: unknown;
  /** Runs just before the item is queued, only when it will be written (photos upload their bytes here). */
  beforeWrite?: () => Promise<void>;
}

interface Pending {
  change: PushChange;
  /** Whether a live item existed (so `applied` means updated, not created). */
  existed: boolean;
}

/**
 * Collects items from one file and pushes them in batches of at most MAX_BATCH with
 * `sync.push`, so validation, blob checks, revisions and the change log apply exactly as for a
 * device. Before queuing, each item's canonical hash is compared with the stored item: the same
 * hash counts as `unchanged` and is not sent at all; anything else goes on top of the current
 * version (`baseVersion` = current version, so the old one stays a revision).
 *
 * Change ids are `import-` + SHA-256(file hash, collection, id, item hash): re-running an
 * interrupted or finished import sends the same ids, which the store answers as duplicates.
 */
export class ImportBatch {
  private pending: Pending[] = [];
  private readonly inBatch = new Set<string>();
  private items = 0;

  constructor(
    private readonly sync: SyncService,
    private readonly store: RecordStore,
    private readonly user: User,
    private readonly file: string,
    private readonly fileHash: string,
    private readonly limits: ContentLimits,
    private readonly report: ImportReport,
    private readonly onProgress?: (p: ImportProgress) => void,
  ) {}

  reject(id: string | null, e: unknown): void {
    if (!isKeepsakeError(e)) throw e;
    this.report.rejected.push({ file: this.file, id, code: e.code, message: e.message });
  }

  async add(item: ImportItem): Promise<void> {
    this.items++;
    let hash: string;
    try {
      ({ hash } = canonicalizeContent(item.kind, item.id, item.content, this.limits));
    } catch (e) {
      return this.reject(item.id, e);
    }
    const key = `${item.collection}\u0000${item.id}`;
    // The same id twice in one file: let the first land before deciding about the second.
    if (this.inBatch.has(key)) await this.flush();
    const current = await this.store.getItem(this.user.id, item.collection, item.id);
    const live = current !== null && !current.deleted;
    if (live && current.hash === hash) {
      this.report.unchanged++;
      return;
    }
    try {
      await item.beforeWrite?.();
    } catch (e) {
      return this.reject(item.id, e);
    }
    const changeId = 'import-' + createHash('sha256').update([this.fileHash, item.collection, item.id, hash].join('\u0000')).digest('hex');
    this.pending.push({
      change: { changeId, collection: item.collection, id: item.id, baseVersion: current?.version ?? 0, content: item.content },
      existed: live,
    });
    this.inBatch.add(key);
    if (this.pending.length >= MAX_BATCH) await this.flush();
  }

  /** Pushes what is queued. Call once more at the end of the file. */
  async flush(): Promise<void> {
    const batch = this.pending;
    this.pending = [];
    this.inBatch.clear();
    if (batch.length === 0) return;
    let results;
    try {
      ({ results } = await this.sync.push(this.user, { changes: batch.map((p) => p.change) }));
    } catch (e) {
      for (const p of batch) this.reject(p.change.id, e);
      return;
    }
    for (const [i, r] of results.entries()) {
      const p = batch[i];
      switch (r.status) {
        case 'applied':
          if (p.existed) this.report.updated++;
          else this.report.created++;
          break;
        case 'duplicate':
          // This exact change was applied by an earlier run of the same import.
          this.report.unchanged++;
          break;
        case 'conflict':
          this.report.conflicts++;
          break;
        case 'rejected':
          this.report.rejected.push({ file: this.file, id: p.change.id, code: r.error.code, message: r.error.message });
          break;
      }
    }
    this.onProgress?.({ file: this.file, items: this.items, report: this.report });
  }
}
