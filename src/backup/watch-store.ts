// Wraps a record store so every committed write wakes the backup shipper (and, with
// durability=backup, is answered only once a target holds it).
import type { ChangeOutcome } from '../core/model.js';
import type { RecordStore } from '../core/ports/record-store.js';
import type { BackupShipper } from './shipper.js';

/** Writes that change a user's account, tokens, collections, blob refs or DAV properties, and where their user id is. */
const META_WRITES: Record<string, (args: unknown[]) => string | undefined> = {
  createUser: (a) => (a[0] as { id: string }).id,
  updateUser: (a) => a[0] as string,
  createToken: (a) => (a[0] as { userId: string }).userId,
  deleteToken: (a) => a[0] as string,
  createCollection: (a) => a[0] as string,
  updateCollection: (a) => a[0] as string,
  addBlobRef: (a) => a[0] as string,
  setDavProperties: (a) => a[0] as string,
  // Restores (issue 4) write accounts and items too; the new data must reach the backup.
  restoreAccount: (a) => (a[0] as { user: { id: string } }).user.id,
  restoreItems: (a) => a[0] as string,
};

/** Highest sequence number a write's outcomes refer to. */
function maxSeq(outcomes: ChangeOutcome[]): number {
  let seq = 0;
  for (const o of outcomes) {
    if (o.status === 'applied' || o.status === 'duplicate') seq = Math.max(seq, o.item?.version ?? 0);
    if (o.status === 'conflict') seq = Math.max(seq, o.revision);
  }
  return seq;
}

/**
 * Returns a RecordStore that behaves exactly like `store` but reports each committed write to
 * the shipper. With `waitForBackup`, a write resolves only once at least one target holds it
 * (or fails with `unavailable` after `timeoutMs`; the write stays committed and a retry with the
 * same changeId is answered `duplicate`).
 */
export function watchStore(store: RecordStore, shipper: BackupShipper, options: { waitForBackup: boolean; timeoutMs?: number }): RecordStore {
  // One wrapper per method, made on first use: the server calls the store several times per
  // request, and a new bound function per call was garbage on the serving thread.
  const wrappers = new Map<PropertyKey, { fn: unknown; wrapper: unknown }>();
  return new Proxy(store, {
    get(target, prop, _receiver) {
      const value = Reflect.get(target, prop, target) as unknown;
      if (typeof value !== 'function') return value;
      const known = wrappers.get(prop);
      if (known?.fn === value) return known.wrapper;
      const wrapper = wrap(target, prop, value as (...args: unknown[]) => Promise<unknown>);
      wrappers.set(prop, { fn: value, wrapper });
      return wrapper;
    },
  });

  function wrap(target: RecordStore, prop: PropertyKey, fn: (...args: unknown[]) => Promise<unknown>): unknown {
    if (prop === 'applyChanges') {
      return async (...args: unknown[]) => {
        const outcomes = (await fn.apply(target, args)) as ChangeOutcome[];
        const userId = args[0] as string;
        const seq = maxSeq(outcomes);
        shipper.committed(userId, outcomes);
        shipper.changed(userId, false, seq);
        if (options.waitForBackup && seq > 0) await shipper.waitShipped(userId, seq, 0, options.timeoutMs);
        return outcomes;
      };
    }
    const userOf = typeof prop === 'string' ? META_WRITES[prop] : undefined;
    if (userOf) {
      return async (...args: unknown[]) => {
        const result = await fn.apply(target, args);
        const userId = userOf(args);
        if (userId) {
          const gen = shipper.changed(userId, true);
          if (options.waitForBackup) await shipper.waitShipped(userId, 0, gen, options.timeoutMs);
        }
        return result;
      };
    }
    return fn.bind(target);
  }
}
