// Copies the photo bytes restored items need from the backup into the blob store, hashing each once.
import { BackupError } from '../backup/backup-error.js';
import { HEADER_BYTES, OBJECT_FORMAT, OBJECT_MAGIC, ObjectType } from '../backup/object-codec.js';
import type { BackupRepository } from '../backup/repository.js';
import { names } from '../backup/repository-format.js';
import type { StoredItem } from '../core/model.js';
import type { BlobStore } from '../core/ports/blob-store.js';
import { forEachBounded } from './bounded.js';

/** Photo copies running at once within one user (users run in parallel too). */
const BLOB_PARALLEL = 4;

/**
 * The bytes of a blob object. A plain blob (neither compressed nor encrypted) is returned after
 * checking its header and length but not its object checksum: the blob store hashes every byte it
 * receives against the blob's name (`blob_hash_mismatch`), which catches everything the checksum
 * would, so each photo is hashed once instead of three times. Any other object goes through the
 * full decode (checksum, authentication, decompression).
 */
export async function blobBytes(repo: BackupRepository, hash: string): Promise<Uint8Array> {
  const name = names.blob(hash);
  const raw = await repo.target.get(name);
  if (!raw) throw new BackupError('backup_object_missing', `backup object ${name} is missing`, { object: name });
  return blobFromObject(repo, hash, raw);
}

/** The bytes of blob `hash` from its object's bytes `raw`, as {@link blobBytes} gives them (a view of `raw` for a plain blob). */
export function blobFromObject(repo: BackupRepository, hash: string, raw: Uint8Array): Uint8Array {
  const buf = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  const plain =
    buf.length >= HEADER_BYTES &&
    buf.subarray(0, 4).equals(OBJECT_MAGIC) &&
    buf[4] >= 1 &&
    buf[4] <= OBJECT_FORMAT &&
    buf[5] === ObjectType.blob &&
    buf[6] === 0 &&
    Number(buf.readBigUInt64BE(8)) === buf.length - HEADER_BYTES;
  return plain ? buf.subarray(HEADER_BYTES) : repo.decode(names.blob(hash), raw, 'blob');
}

/** The blob a live photo item points at, or null. */
export function blobOf(item: StoredItem): string | null {
  if (item.deleted || item.content === null) return null;
  try {
    const b = (JSON.parse(item.content) as { blob?: unknown }).blob;
    return typeof b === 'string' ? b : null;
  } catch {
    return null;
  }
}

/**
 * Copies the photo bytes that live photo items need and the blob store lacks; returns how many
 * were copied. A blob whose bytes do not hash to its name throws (the caller quarantines the user's
 * photos): the blob store refuses it, so nothing damaged becomes visible.
 */
export async function restoreBlobs(repo: BackupRepository, blobs: BlobStore, items: Iterable<StoredItem>): Promise<number> {
  const wanted = [...new Set([...items].map(blobOf).filter((b): b is string => b !== null))];
  let copied = 0;
  await forEachBounded(wanted, BLOB_PARALLEL, async (hash) => {
    if (await copyBlob(repo, blobs, hash)) copied++;
  });
  return copied;
}

/**
 * Copies one photo's bytes from the backup into the blob store unless it holds them already; true
 * when it copied. Throws `backup_object_missing`/`backup_object_corrupt` for a damaged backup object.
 */
export async function copyBlob(repo: BackupRepository, blobs: BlobStore, hash: string): Promise<boolean> {
  if (await blobs.stat(hash)) return false;
  const bytes = await blobBytes(repo, hash);
  try {
    await blobs.put(hash, (async function* () {
      yield bytes;
    })(), { maxBytes: Number.MAX_SAFE_INTEGER });
  } catch (e) {
    if ((e as { code?: string }).code === 'blob_hash_mismatch') {
      throw new BackupError('backup_object_corrupt', `backup object ${names.blob(hash)} does not hash to its name`, { object: names.blob(hash), cause: e });
    }
    throw e;
  }
  return true;
}
