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

let stopped = false;
function tick(): void {
  if (stopped) return;
  try {
    // PASSIVE never waits for readers or writers; RESTART would stall the writer.
    let walBytes = 0;
    try {
      walBytes = statSync(`${path}-wal`).size;
    } catch {
      // no WAL yet
    }
    // Under constant writes a PASSIVE checkpoint never catches the writer, so the WAL would grow
    // without end; RESTART waits (briefly) for a quiet moment and makes the next write start over.
    const mode = walBytes > RESTART_AT_BYTES ? 'RESTART' : 'PASSIVE';
    const [r] = db.pragma(`wal_checkpoint(${mode})`) as Array<{ busy: number; log: number; checkpointed: number }>;
    parentPort?.postMessage({ type: 'checkpoint', log: r.log, checkpointed: r.checkpointed });
  } catch (error) {
    parentPort?.postMessage({ type: 'error', message: (error as Error).message });
  }
  setTimeout(tick, intervalMs);
}
setTimeout(tick, intervalMs);

parentPort?.on('message', (m: { type: string }) => {
  if (m.type === 'stop') {
    stopped = true;
    try {
      db.pragma('wal_checkpoint(PASSIVE)');
    } finally {
      db.close();
      parentPort?.postMessage({ type: 'stopped' });
    }
  }
});
