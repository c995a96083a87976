// The mass-deletion guard: refuses a request that would delete a large share of a collection.
import { fail } from '../errors.js';

export interface MassDeleteLimits {
  /** Share of a collection's live items (0..1) that one request may delete without confirmation. */
  share: number;
  /** Collections with at most this many live items are never guarded. */
  minItems: number;
}

export const DEFAULT_MASS_DELETE: MassDeleteLimits = { share: 0.5, minItems: 20 };

/**
 * `deletes` maps collection id to the number of live items the request deletes there;
 * `live` gives each collection's live count. Throws `mass_delete_guard` naming the first
 * collection over the limit, unless confirmed.
 */
export function massDeleteGuard(
  deletes: Map<string, number>,
  live: (collection: string) => number,
  limits: MassDeleteLimits,
  confirmed: boolean,
): void {
  if (confirmed) return;
  for (const [collection, n] of deletes) {
    const total = live(collection);
    if (total > limits.minItems && n > total * limits.share) {
      fail(
        'mass_delete_guard',
        `this request deletes ${n} of ${total} items in "${collection}"; resend with "confirmMassDelete": true if that is intended`,
        { collection, deletes: n, live: total },
      );
    }
  }
}
