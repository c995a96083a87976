// Verification's batched decompression: a worker inflates the objects of a batch of users in one zlib call.
import { GUNZIP_BATCH_BYTES, gunzipBodies, gunzipBody } from './object-codec.js';
import { describeProblem, type ObjectCheck } from './verify-objects.js';

/**
 * Checked objects whose payloads are still gzip-compressed. {@link InflateBatch.flush} sets each
 * result's `body` (one zlib call for the lot, see `gunzipBodies`), or, for an object that does
 * not decompress, its `problem` — the same words a one-by-one decode gives.
 */
export class InflateBatch {
  private results: ObjectCheck[] = [];
  private bodies: Uint8Array[] = [];
  private bytes = 0;

  /** Adds an intact object's compressed body; flushes first when the batch would grow too large. */
  add(result: ObjectCheck, gzip: Uint8Array): void {
    if (this.bytes + gzip.length > GUNZIP_BATCH_BYTES) this.flush();
    this.results.push(result);
    this.bodies.push(gzip);
    this.bytes += gzip.length;
  }

  /** Decompresses everything added so far into the results. */
  flush(): void {
    const { results, bodies } = this;
    if (results.length === 0) return;
    this.results = [];
    this.bodies = [];
    this.bytes = 0;
    const all = results.length > 1 ? gunzipBodies(bodies) : null;
    for (let i = 0; i < results.length; i++) {
      const r = results[i];
      if (all) {
        r.body = all[i];
        continue;
      }
      try {
        r.body = gunzipBody(r.name, bodies[i]);
      } catch (e) {
        r.problem = describeProblem(e);
        r.type = undefined;
      }
    }
  }
}
