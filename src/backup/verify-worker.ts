// Worker thread of verification: reads objects of a local directory target and checks (and decodes) them off the main thread.
import { closeSync, existsSync, fstatSync, openSync, readdirSync, readFileSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { checkObjectBytes, describeProblem, type ObjectCheck, type ObjectToCheck, type WorkerResults, type WorkerTask } from './verify-objects.js';
import { InflateBatch } from './verify-inflate.js';
import { restoreFromDecoded, type UserVerdict } from './verify-restore.js';

const { root, key } = workerData as { root: string; key: Uint8Array | null };
const keyBuf = key ? Buffer.from(key) : null;

// One task at a time, in order (a task with restores awaits between its users).
let queue: Promise<void> = Promise.resolve();
parentPort!.on('message', (task: WorkerTask) => {
  queue = queue.then(() => runTask(task));
});

async function runTask(task: WorkerTask): Promise<void> {
  const out: ObjectCheck[] = [];
  const verdicts: UserVerdict[] = [];
  if (task.type === 'check') for (const item of task.items) out.push(checkOne(item));
  else {
    // Every directory is read and checked first, then their payloads are inflated together.
    const inflate = new InflateBatch();
    const ranges: Array<[dir: string, start: number, end: number]> = [];
    for (const dir of task.dirs) {
      const start = out.length;
      walk(dir, out, inflate);
      ranges.push([dir, start, out.length]);
    }
    inflate.flush();
    for (const [dir, start, end] of ranges) {
      if (!task.restore || !USER_DIR.test(dir)) continue;
      // Full mode: restore the user from what was just read; only the verdict goes back.
      const mine = out.slice(start, end);
      const verdict = await restoreFromDecoded(mine).catch(() => null);
      if (!verdict) continue;
      verdicts.push(verdict);
      // Not `delete`: that turns each result into a slow dictionary object to clone and send.
      for (const r of mine) r.body = undefined;
    }
  }
  // Each payload goes over in its own exact-size buffer, moved rather than copied: cloning a view
  // copies its whole underlying buffer (a zlib chunk or a pool slab), many times the payload.
  const transfer: ArrayBuffer[] = [];
  for (const r of out) {
    if (!r.body) continue;
    const own = new Uint8Array(r.body.byteLength);
    own.set(r.body);
    r.body = own;
    transfer.push(own.buffer);
  }
  const message: WorkerResults = { results: out, verdicts };
  parentPort!.postMessage(message, transfer);
}

const USER_DIR = /^users\/[^/]+$/;

/**
 * The directories a user's directory holds (docs/backup-format.md): read directly, not discovered.
 * Most users have no `floor` (never pruned) and small ones no `snap` (their first segment stands in
 * for a snapshot): those are looked up first, since a failing readdir costs several times a lookup.
 */
const USER_PARTS: Array<[part: string, usuallyAbsent: boolean]> = [
  ['seg', false],
  ['snap', true],
  ['floor', true],
];

/**
 * Checks every file under the directory `dir` (a relative object-name prefix), in any order. A
 * user's directory is not listed itself: its parts are read by name, and their entries are taken
 * for files without a type lookup (a directory there fails its read and is reported). On a large
 * repository directory reads are most of a verify's system time.
 */
function walk(dir: string, out: ObjectCheck[], inflate: InflateBatch): void {
  if (USER_DIR.test(dir)) {
    for (const [part, usuallyAbsent] of USER_PARTS) {
      if (usuallyAbsent && !existsSync(join(root, ...dir.split('/'), part))) continue;
      files(`${dir}/${part}`, out, inflate);
    }
    return;
  }
  if (/^data\/[^/]+$/.test(dir)) return files(dir, out, inflate);
  walkAny(dir, out, inflate);
}

/** Checks every entry of a directory that holds only objects. */
function files(dir: string, out: ObjectCheck[], inflate: InflateBatch): void {
  let entries: string[];
  try {
    entries = readdirSync(join(root, ...dir.split('/')));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  for (const e of entries) push(`${dir}/${e}`, out, inflate);
}

function push(name: string, out: ObjectCheck[], inflate: InflateBatch): void {
  const r = checkOne({ name, size: 0, decode: true }, inflate);
  // Gone between the listing and the read (a prune sweep): it is simply not there.
  if (r.bytes > 0 || r.problem === undefined || !r.problem.startsWith('missing')) {
    r.size = r.bytes;
    out.push(r);
  }
}

function walkAny(dir: string, out: ObjectCheck[], inflate: InflateBatch): void {
  let entries;
  try {
    entries = readdirSync(join(root, ...dir.split('/')), { withFileTypes: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  for (const e of entries) {
    const name = `${dir}/${e.name}`;
    if (e.isDirectory()) walk(name, out, inflate);
    else if (e.isFile()) push(name, out, inflate);
  }
}

function checkOne(item: ObjectToCheck, batch?: InflateBatch): ObjectCheck {
  let bytes: Uint8Array | null = null;
  try {
    // Synchronous reads: this thread does nothing else, and they cost a third of async ones per
    // small file. Photos go into one reused buffer (a fresh megabyte per photo costs page faults).
    bytes = item.decode ? readFileSync(join(root, ...item.name.split('/'))) : readInto(join(root, ...item.name.split('/')));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') return { name: item.name, bytes: 0, problem: describeProblem(e) };
  }
  return checkObjectBytes(item, bytes, keyBuf, batch);
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
