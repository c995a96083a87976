// Opens the SQLite file: parent directory, pragmas, migrations, and durability of the files themselves.
import Database from 'better-sqlite3';
import { closeSync, fsyncSync, openSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { migrate } from './schema.js';

/**
 * An open database plus a descriptor on its `-wal` file, used to fsync it and to grow it ahead of
 * the writer (wal-growth.ts, which writes only past the file's end under the write lock). The
 * descriptor stays valid while we are open: SQLite truncates or reuses the WAL in place and
 * deletes it only when the last connection to the database closes.
 */
export interface SqliteConnection {
  path: string;
  db: Database.Database;
  walFd: number;
}

/** Page size of databases created from now on. */
export const PAGE_SIZE = 4096;

/**
 * Opens (creating if needed) the database at `file` in WAL mode with `synchronous=NORMAL` and
 * brings the schema up to date. Before returning, fsyncs the database file, the `-wal` file and
 * the directories whose entries were just created, so the files themselves survive a power cut
 * (fsync of a file does not make its directory entry durable).
 */
export async function openConnection(file: string): Promise<SqliteConnection> {
  const path = resolve(file);
  const dir = dirname(path);
  const firstCreated = await mkdir(dir, { recursive: true });
  const db = new Database(path);
  let walFd = -1;
  try {
    // Another process may hold the write lock briefly; wait rather than fail.
    db.pragma('busy_timeout = 5000');
    // 4 KiB pages for a new file (an existing file keeps its page size; this is then a no-op).
    // A single write dirties about five pages (the item row, its two index entries, the user's
    // sequence number, the collection's count and digest), and each is a whole WAL frame that the
    // COMMIT writes and the fsync flushes: with 8 KiB pages a CardDAV PUT wrote ~43 KB per fsync,
    // with 4 KiB ~22 KB, for ~40 µs less server CPU and ~0.1 ms less per one-client PUT (the
    // issue 6 figure). 8 KiB pages saved batched pushes (random-place index inserts) about a
    // tenth of their CPU per item; batched stays well above its target with 4 KiB.
    db.pragma(`page_size = ${PAGE_SIZE}`);
    const mode = db.pragma('journal_mode = WAL', { simple: true });
    if (mode !== 'wal') throw new Error(`could not switch ${path} to WAL mode (got ${String(mode)})`);
    // NORMAL: COMMIT does not fsync; group-commit.ts fsyncs the WAL off the event loop instead.
    db.pragma('synchronous = NORMAL');
    // No checkpoints on this connection: a checkpoint copies pages and fsyncs the database file
    // synchronously, stalling every request. checkpointer.ts runs them in a worker thread.
    db.pragma('wal_autocheckpoint = 0');
    // 16 MiB of page cache: hot index pages stay in memory; the OS caches the rest.
    db.pragma('cache_size = -16384');
    // Temporary b-trees and statement journals in memory, not in temp files.
    db.pragma('temp_store = MEMORY');
    // When the WAL restarts after a full checkpoint, cut the file back to 128 MiB.
    db.pragma('journal_size_limit = 134217728');
    migrate(db, new Date().toISOString());
    walFd = openSync(`${path}-wal`, 'r+');
    fsyncSync(walFd);
    fsyncPath(path);
    for (const d of createdDirectories(dir, firstCreated)) fsyncPath(d);
    return { path, db, walFd };
  } catch (error) {
    if (walFd >= 0) closeSync(walFd);
    db.close();
    throw error;
  }
}

function fsyncPath(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** `dir` and every directory above it up to the parent of the first one `mkdir` created. */
function createdDirectories(dir: string, firstCreated: string | undefined): string[] {
  const out = [dir];
  if (firstCreated === undefined) return out;
  const stop = dirname(resolve(firstCreated));
  for (let d = dir; d !== stop && dirname(d) !== d; ) {
    d = dirname(d);
    out.push(d);
  }
  return out;
}
