// Worker thread of ContentWorkerPool: checks the items it is sent with core's reference checker.
import { parentPort } from 'node:worker_threads';
import type { ContentLimits } from '../core/content/validate-content.js';
import { checkContentInline, type ContentToCheck } from '../core/ports/content-checker.js';
import type { WireCheckResult } from './content-pool.js';

parentPort!.on('message', (msg: { id: number; items: ContentToCheck[]; limits: ContentLimits }) => {
  const results = checkContentInline(msg.items, msg.limits).map((r): WireCheckResult =>
    r.ok ? r : { ok: false, error: { code: r.error.code, message: r.error.message, details: r.error.details } },
  );
  parentPort!.postMessage({ id: msg.id, results });
});
