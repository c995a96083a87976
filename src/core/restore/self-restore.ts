// A user's own point-in-time restore ("my contacts as of yesterday") from the history the store
// keeps for the retention window. What it replaces becomes revisions, so it can be undone too.
import { randomUUID } from 'node:crypto';
import { fail } from '../errors.js';
import { checkKind, type Kind } from '../kinds.js';
import type { PreparedChange, User } from '../model.js';
import { type Clock, isoNow } from '../ports/clock.js';
import type { RecordStore } from '../ports/record-store.js';
import { type ItemHistory, planPointInTime } from './point-in-time.js';

const PAGE = 500;
const APPLY_BATCH = 500;

export interface SelfRestoreReport {
  at: string;
  categories: Kind[];
  /** Items written back with the content they had at `at` (changed or deleted since). */
  restored: number;
  /** Items created since `at`, now in the trash. */
  deleted: number;
  /** Items changed by someone else while the restore ran: both versions kept, newest current. */
  conflicts: number;
}

/** Parses `{ categories: [kind…], at: ISO time }`; throws `invalid_request` / `unknown_kind`. */
export function parseRestoreRequest(body: unknown): { categories: Kind[]; at: Date } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) fail('invalid_request', 'body must be {"categories": [...], "at": "ISO time"}');
  const b = body as Record<string, unknown>;
  for (const k of Object.keys(b)) if (k !== 'categories' && k !== 'at') fail('invalid_request', `unknown field "${k}"`, { field: k });
  if (!Array.isArray(b.categories) || b.categories.length === 0) fail('invalid_request', '"categories" must be a non-empty array of kinds', { field: 'categories' });
  const categories = [...new Set(b.categories.map(checkKind))];
  const at = typeof b.at === 'string' ? new Date(b.at) : new Date(NaN);
  if (typeof b.at !== 'string' || Number.isNaN(at.getTime()) || !/\d{4}-\d{2}-\d{2}T/.test(b.at)) {
    fail('invalid_request', '"at" must be an ISO-8601 date-time such as 2026-11-24T18:00:00Z', { field: 'at' });
  }
  return { categories, at };
}

export class SelfRestore {
  constructor(
    private readonly store: RecordStore,
    private readonly clock: Clock,
    private readonly retentionMs: number,
  ) {}

  /** Restores the user's collections of the given kinds to their state at `at`. */
  async restore(user: User, categories: Kind[], at: Date): Promise<SelfRestoreReport> {
    const now = this.clock.now();
    if (at.getTime() > now) fail('invalid_request', '"at" is in the future', { field: 'at' });
    const horizon = now - this.retentionMs;
    if (at.getTime() < horizon) {
      fail('restore_out_of_range', `history is kept for ${Math.round(this.retentionMs / 86_400_000)} days; ${at.toISOString()} is older — an administrator can restore it from a backup`, {
        oldest: new Date(horizon).toISOString(),
      });
    }
    const iso = at.toISOString();
    const report: SelfRestoreReport = { at: iso, categories, restored: 0, deleted: 0, conflicts: 0 };
    const collections = (await this.store.listCollections(user.id)).filter((c) => categories.includes(c.kind));
    for (const col of collections) {
      let afterId: string | undefined;
      for (;;) {
        const page = await this.store.listItems(user.id, col.id, { afterId, limit: PAGE, includeDeleted: true });
        if (page.length === 0) break;
        afterId = page[page.length - 1].id;
        const histories: ItemHistory[] = [];
        for (const current of page) histories.push({ current, revisions: await this.store.listRevisions(user.id, col.id, current.id) });
        const actions = planPointInTime(histories, iso);
        for (let i = 0; i < actions.length; i += APPLY_BATCH) {
          const changes: PreparedChange[] = actions.slice(i, i + APPLY_BATCH).map((a) => ({
            changeId: `restore-${randomUUID()}`,
            collection: col.id,
            id: a.id,
            baseVersion: a.baseVersion,
            deleted: a.action === 'delete',
            content: a.action === 'write' ? a.content : null,
            hash: a.action === 'write' ? a.hash : null,
          }));
          const outcomes = await this.store.applyChanges(user.id, changes, isoNow(this.clock));
          outcomes.forEach((o, n) => {
            if (o.status === 'conflict') report.conflicts++;
            else if (o.status === 'applied') changes[n].deleted ? report.deleted++ : report.restored++;
          });
        }
      }
    }
    return report;
  }
}
