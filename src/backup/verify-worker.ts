// Worker thread of verification: reads objects of a local directory target and checks (and decodes) them off the main thread.
import { closeSync, fstatSync, openSync, readdirSync, readFileSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { checkObjectBytes, describeProblem, type ObjectCheck, type ObjectToCheck, type WorkerTask } from './verify-objects.js';

const { root, key } = workerData as { root: string; key: Uint8Array | null };
const keyBuf = key ? Buffer.from(key) : null;

parentPort!.on('message', (task: WorkerTask) => {
  const out: ObjectCheck[] = [];
  if (task.type === 'check') for (const item of task.items) out.push(checkOne(item));
  else for (const dir of task.dirs) walk(dir, out);
  parentPort!.postMessage(out);
});

/** Checks every file under the directory `dir` (a relative object-name prefix), in any order. */
function walk(dir: string, out: ObjectCheck[]): void {
  let entries;
  try {
    entries = readdirSync(join(root, ...dir.split('/')), { withFileTypes: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  for (const e of entries) {
    const name = `${dir}/${e.name}`;
    if (e.isDirectory()) walk(name, out);
    else if (e.isFile()) {
      const r = checkOne({ name, size: 0, decode: true });
      if (r.bytes > 0 || r.problem === undefined || !r.problem.startsWith('missing')) out.push({ ...r, size: r.bytes });
    }
  }
}

function checkOne(item: ObjectToCheck): ObjectCheck {
  let bytes: Uint8Array | null = null;
  try {
    // Synchronous reads: this thread does nothing else, and they cost a third of async ones per
    // small file. Photos go into one reused buffer (a fresh megabyte per photo costs page faults).
    bytes = item.decode ? readFileSync(join(root, ...item.name.split('/'))) : readInto(join(root, ...item.name.split('/')));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') return { name: item.name, bytes: 0, problem: describeProblem(e) };
  }
  return checkObjectBytes(item, bytes, keyBuf);
}

let scratch = Buffer.allocUnsafe(4 * 1024 * 1024);

/** Reads a whole file into the reused scratch buffer (valid until the next call). */
function readInto(path: string): Uint8Array {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    if (size > scratch.length) scratch = Buffer.allocUnsafe(size);
    let got = 0;
    while (got < size) {
      const n = readSync(fd, scratch, got, size - got, got);
      if (n === 0) break;
      got += n;
    }
    return scratch.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}
