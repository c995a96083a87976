// Worker thread of a directory target's shipping: encodes objects and writes them durably (temp file,
// fsync, link, directory fsync), then reads each back and checks it, all off the main thread.
import { parentPort, workerData } from 'node:worker_threads';
import { checkObject, encodeObject } from '../../object-codec.js';
import { WorkerFilePut } from './worker-put.js';
import type { PutReply, PutRequest } from './put-pool.js';

const { root, key } = workerData as { root: string; key: Uint8Array | null };
const keyBuf = key ? Buffer.from(key) : null;
const target = new WorkerFilePut(root);

parentPort!.on('message', (req: PutRequest) => {
  // Requests run concurrently (their fsyncs overlap in the thread pool), as they did on the main thread.
  put(req).then(
    (reply) => parentPort!.postMessage(reply),
    (e: unknown) => {
      const err = e as Error & { code?: string; object?: string };
      parentPort!.postMessage({ id: req.id, error: { name: err?.name, message: err?.message ?? String(e), code: err?.code, object: err?.object } } satisfies PutReply);
    },
  );
});

async function put(req: PutRequest): Promise<PutReply> {
  const payload = typeof req.payload === 'string' ? Buffer.from(req.payload, 'utf8') : req.payload;
  const bytes = encodeObject(req.name, req.type, payload, { compress: req.compress, key: keyBuf });
  // A segment's name is new unless a crash interrupted a shipment: skip the look before writing.
  const created = await target.putIfAbsent(req.name, bytes, req.type === 'segment');
  // An object that already existed (a blob another user has, a range shipped before a crash) is
  // not ours to re-check here; verification reads everything.
  if (!created) return { id: req.id, created: false, bytes: 0 };
  const back = target.get(req.name);
  if (!back) throw new Error(`backup object ${req.name} is not readable right after it was written`);
  checkObject(req.name, back);
  return { id: req.id, created: true, bytes: back.length };
}
