// Small helpers for writing files durably, shared by the filesystem blob store and backup target.
import { type FileHandle, open } from 'node:fs/promises';

/** Writes all of `bytes` (a single write may be short). */
export async function writeFully(fh: FileHandle, bytes: Uint8Array): Promise<void> {
  for (let off = 0; off < bytes.length; ) {
    const { bytesWritten } = await fh.write(bytes, off, bytes.length - off);
    off += bytesWritten;
  }
}

/** fsyncs a directory, so a file created or renamed in it survives a power cut. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
