// The ledger of every write the server acknowledged, and the end-of-run check against it.
import type { AcknowledgedWrite } from '../client/index.js';

interface Entry {
  order: number;
  hash: string;
  deleted: boolean;
  status: AcknowledgedWrite['status'];
}

/** One user's acknowledged writes: the latest per item is what must survive. */
export class Ledger {
  private order = 0;
  /** Every acknowledged write (applied, duplicate after a dropped answer, or kept as a conflict revision). */
  writes = 0;
  conflicts = 0;
  private readonly latest = new Map<string, Map<string, Entry>>();

  record(user: string, ack: AcknowledgedWrite): void {
    this.writes++;
    if (ack.status === 'conflict') this.conflicts++;
    let items = this.latest.get(user);
    if (!items) this.latest.set(user, (items = new Map()));
    items.set(`${ack.collection}/${ack.id}`, { order: ++this.order, hash: ack.hash, deleted: ack.deleted, status: ack.status });
  }

  /** The latest acknowledged write of each of a user's items that wrote content (deletes hold no data). */
  liveWrites(user: string): Array<{ collection: string; id: string; hash: string }> {
    const out = [];
    for (const [key, e] of this.latest.get(user) ?? []) {
      if (e.deleted) continue;
      const i = key.indexOf('/');
      out.push({ collection: key.slice(0, i), id: key.slice(i + 1), hash: e.hash });
    }
    return out;
  }
}
