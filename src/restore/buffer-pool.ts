// Reusable read buffers for copying photos out of a local backup. On a virtual machine, memory new
// to a process costs a page fault per page when first written: reading a gigabyte of photos into
// fresh buffers spent more time faulting than copying (bench/restore.bench.ts, 2026-12-08).
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

/** Sizes are rounded up to this, so one buffer serves objects of nearby sizes. */
const GRAIN = 1024 * 1024;
/** Free buffers kept at most (the rest are left to the garbage collector). */
const KEEP = 64;

export class BufferPool {
  private readonly free: Buffer[] = [];

  /** A buffer of at least `size` bytes, reused when one is free. */
  take(size: number): Buffer {
    let best = -1;
    for (let i = 0; i < this.free.length; i++) {
      if (this.free[i].length >= size && (best < 0 || this.free[i].length < this.free[best].length)) best = i;
    }
    if (best >= 0) return this.free.splice(best, 1)[0];
    return Buffer.allocUnsafeSlow(Math.max(GRAIN, Math.ceil(size / GRAIN) * GRAIN));
  }

  /** Returns a buffer from {@link take}; its bytes must no longer be used. */
  give(buf: Buffer): void {
    if (this.free.length < KEEP) this.free.push(buf);
  }
}

/**
 * The whole file at `path` read into a buffer of `pool` (synchronously); null when it does not
 * exist. `bytes` is valid until `release` is called.
 */
export function readPooled(path: string, pool: BufferPool): { bytes: Buffer; release: () => void } | null {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  try {
    const size = fstatSync(fd).size;
    const buf = pool.take(size);
    let got = 0;
    try {
      // To the end of the file as it is now (a file that grew after fstat is read as far as the buffer holds).
      for (;;) {
        const n = readSync(fd, buf, got, buf.length - got, got);
        if (n === 0) break;
        got += n;
        if (got === buf.length) break;
      }
    } catch (e) {
      pool.give(buf);
      throw e;
    }
    return { bytes: buf.subarray(0, got), release: () => pool.give(buf) };
  } finally {
    closeSync(fd);
  }
}
