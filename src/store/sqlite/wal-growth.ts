// Grows the SQLite `-wal` file ahead of the writer with zeros, so commits overwrite blocks instead of appending.
import { fstatSync, writeSync } from 'node:fs';

/** Bytes of zeros added at a time. */
export const GROWTH_CHUNK_BYTES = 4 * 1024 * 1024;
/**
 * The WAL is grown up to this size: above `RESET_AT_BYTES` (checkpointer.ts, 48 MiB), where the
 * writer makes the log start over, plus what arrives before that takes effect; below
 * `journal_size_limit` (connection.ts, 128 MiB), so a restart never cuts the zeros off again.
 */
export const GROWTH_LIMIT_BYTES = 64 * 1024 * 1024;
/** A WAL smaller than this is left alone: a store that writes little never pays for zeros. */
export const GROWTH_FROM_BYTES = 1024 * 1024;
/**
 * The file's size is looked at once per this many groups: an `fstat` costs a few microseconds
 * of a ~0.4 ms CardDAV PUT and once the WAL has its working size it finds nothing to do, while
 * letting 16 commits append before a chunk is added costs little.
 */
export const GROWTH_CHECK_EVERY = 16;

const ZEROS = Buffer.alloc(1024 * 1024);

/**
 * Why: a commit that appends to the WAL changes the file's size, so the fdatasync that makes it
 * durable must also commit the file system's journal (new blocks, new size); a commit that
 * overwrites blocks the file already has needs a data flush only. On the development VM's ext4
 * that is ~0.23 against ~0.11 ms per fdatasync of a ~22 KB commit (one CardDAV PUT), 0.9–1.7 ms
 * against 0.2–0.4 ms under other processes' disk load. SQLite restarts the log from its
 * beginning after a complete checkpoint, so once the file has reached its working size commits
 * overwrite; until then (the first ~2,000 PUTs after each start, and whenever the log outgrows
 * its largest size so far) every commit appended. Zeros written ahead, 4 MiB at a time, turn
 * those into overwrites: one commit per chunk pays for the growth instead of every commit.
 *
 * Why it is safe: it writes only past the current end of the file, and only while this
 * connection holds the WAL write lock (inside `BEGIN IMMEDIATE`, before the group's statements),
 * so no frame, committed or being written by another connection or process, lies there. SQLite
 * trusts a WAL frame only if its page number is not zero and its salts and cumulative checksum
 * match the header (sqlite.org/fileformat2.html#walformat), so recovery stops at the first zero
 * frame exactly as it stops at the end of the file, whether or not the zeros reached the disk.
 */
export class WalGrowth {
  private lastSize: number;
  private failed = false;
  private groups = 0;
  /** Chunks added so far: an observable for tests. */
  grown = 0;

  constructor(
    private readonly walFd: number,
    private readonly chunkBytes = GROWTH_CHUNK_BYTES,
    private readonly limitBytes = GROWTH_LIMIT_BYTES,
    private readonly fromBytes = GROWTH_FROM_BYTES,
    private readonly checkEvery = GROWTH_CHECK_EVERY,
  ) {
    this.lastSize = fstatSync(walFd).size;
  }

  /**
   * Call inside the write transaction, before its statements: when commits since the last look
   * appended to the file (it grew by itself), adds a chunk of zeros past its end. Never throws:
   * if the zeros cannot be written (a full disk) nothing is lost, commits just append again, and
   * this gives up growing for the life of the connection.
   */
  beforeWrites(): void {
    if (this.failed || ++this.groups % this.checkEvery !== 0) return;
    try {
      const size = fstatSync(this.walFd).size;
      const grew = size > this.lastSize;
      this.lastSize = size;
      if (!grew || size < this.fromBytes || size >= this.limitBytes) return;
      const end = Math.min(size + this.chunkBytes, this.limitBytes);
      for (let at = size; at < end; ) at += writeSync(this.walFd, ZEROS, 0, Math.min(ZEROS.length, end - at), at);
      this.lastSize = end;
      this.grown++;
    } catch {
      this.failed = true;
    }
  }
}
