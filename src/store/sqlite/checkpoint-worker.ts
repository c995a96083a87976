// Worker thread that checkpoints the WAL on its own connection, so copying pages into the
// database file and fsyncing it never blocks the event loop that serves requests.
import Database from 'better-sqlite3';
import { statSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';

const { path, intervalMs } = workerData as { path: string; intervalMs: number };
/** Past this WAL size a RESTART checkpoint makes the writer start the log again from the top. */
const RESTART_AT_BYTES = 256 * 1024 * 1024;
const db = new Database(path);
db.pragma('busy_timeout = 5000');
// Checkpoints in NORMAL mode fsync the WAL before copying and the database after (sqlite.org/wal.html).
db.pragma('synchronous = NORMAL');
/** A WAL frame: a 24-byte header and one page. */
const FRAME_BYTES = 24 + (db.pragma('page_size', { simple: true }) as number);

function walSize(): number {
  try {
    return statSync(`${path}-wal`).size;
  } catch {
    return 0; // no WAL yet
  }
}

/** One checkpoint; `type` names the message that reports it. */
function checkpoint(type: 'checkpoint' | 'finished', mode: 'PASSIVE' | 'RESTART'): void {
  try {
    const [r] = db.pragma(`wal_checkpoint(${mode})`) as Array<{ busy: number; log: number; checkpointed: number }>;
    // Bytes of log in use: after a restart the file keeps its size, so its size says little.
    parentPort?.postMessage({ type, log: r.log, checkpointed: r.checkpointed, logBytes: Math.max(0, r.log) * FRAME_BYTES });
  } catch (error) {
    parentPort?.postMessage({ type: 'error', message: (error as Error).message });
    if (type === 'finished') parentPort?.postMessage({ type, log: -1, checkpointed: -1, logBytes: 0 });
  }
}

let stopped = false;
function tick(): void {
  if (stopped) return;
  // PASSIVE never waits for readers or writers; RESTART would stall the writer. Under constant
  // writes a PASSIVE checkpoint never catches the writer, so the WAL would grow without end:
  // the main thread then holds its writes back for one `finish` (checkpointer.ts), and as a last
  // resort past RESTART_AT_BYTES a RESTART waits (briefly) for a quiet moment.
  checkpoint('checkpoint', walSize() > RESTART_AT_BYTES ? 'RESTART' : 'PASSIVE');
  setTimeout(tick, intervalMs);
}
setTimeout(tick, intervalMs);

parentPort?.on('message', (m: { type: string }) => {
  if (m.type === 'finish') {
    // The writer is holding back: this PASSIVE copies the rest of the log, so the next write
    // transaction starts the WAL again from its beginning.
    checkpoint('finished', 'PASSIVE');
  } else if (m.type === 'stop') {
    stopped = true;
    try {
      db.pragma('wal_checkpoint(PASSIVE)');
    } finally {
      db.close();
      parentPort?.postMessage({ type: 'stopped' });
    }
  }
});
