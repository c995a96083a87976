// Photo bytes: upload with hash and type checks, reads only by users who uploaded them.
import { IMAGE_SNIFF_BYTES, sniffImageType } from '../content/image-type.js';
import { FOLDER_TYPE, OTHER_FILE_TYPE } from '../content/photo-content.js';
import { fail } from '../errors.js';
import { contentHash, isContentHash } from '../hash.js';
import type { User } from '../model.js';
import type { BlobStore } from '../ports/blob-store.js';
import type { RecordStore } from '../ports/record-store.js';

/** A photos item's folder entry refers to the empty blob, which it never needs stored. */
const FOLDER_BLOB = contentHash(new Uint8Array());

/** Passes bytes through, refusing the stream early unless it starts like a supported image (or `anyType`). */
async function* sniffing(source: AsyncIterable<Uint8Array>, anyType: boolean, onType: (t: string) => void): AsyncIterable<Uint8Array> {
  let head = Buffer.alloc(0);
  let decided = false;
  for await (const chunk of source) {
    if (!decided) {
      head = Buffer.concat([head, chunk]);
      if (head.length < IMAGE_SNIFF_BYTES) continue;
      decide(head);
      decided = true;
      yield head;
      continue;
    }
    yield chunk;
  }
  if (!decided) {
    decide(head);
    if (head.length) yield head;
  }
  function decide(h: Buffer) {
    const t = sniffImageType(h);
    if (!t && !anyType) fail('blob_type_unsupported', 'the bytes are not a JPEG, PNG, HEIC, WebP or GIF image');
    onType(t ?? OTHER_FILE_TYPE);
  }
}

export interface UploadedBlob {
  hash: string;
  size: number;
  type: string;
  created: boolean;
}

export class PhotoBlobs {
  constructor(
    private readonly store: RecordStore,
    private readonly blobs: BlobStore,
    private readonly maxBytes: number,
  ) {}

  /**
   * Streams an upload into the blob store; the hash, size and type are checked before it becomes
   * visible. Only images are taken unless `anyType` (imports of an export, which may hold the
   * other files a WebDAV client put into a photo folder).
   */
  async upload(user: User, hash: string, source: AsyncIterable<Uint8Array>, options: { anyType?: boolean } = {}): Promise<UploadedBlob> {
    if (!isContentHash(hash)) fail('invalid_request', 'blob name must be sha256:<64 lowercase hex digits>', { field: 'hash' });
    let type = '';
    const r = await this.blobs.put(hash, sniffing(source, options.anyType === true, (t) => (type = t)), { maxBytes: this.maxBytes });
    await this.store.addBlobRef(user.id, hash);
    return { hash, size: r.size, type, created: r.created };
  }

  /** The blob's bytes if this user uploaded it; `not_found` otherwise (the answer never reveals other users' blobs). */
  async read(user: User, hash: string): Promise<{ size: number; type: string; body: AsyncIterable<Uint8Array> }> {
    if (!isContentHash(hash) || !(await this.store.hasBlobRef(user.id, hash))) fail('not_found', `no blob ${hash.slice(0, 80)}`);
    const st = await this.blobs.stat(hash);
    const body = await this.blobs.get(hash);
    if (!st || !body) fail('not_found', `blob ${hash} is missing from the blob store`);
    const it = body[Symbol.asyncIterator]();
    const first = await it.next();
    const head = first.done ? new Uint8Array() : first.value;
    async function* rest(): AsyncIterable<Uint8Array> {
      if (!first.done) yield head;
      for (;;) {
        const n = await it.next();
        if (n.done) return;
        yield n.value;
      }
    }
    return { size: st.size, type: sniffImageType(head) ?? OTHER_FILE_TYPE, body: rest() };
  }
}

/**
 * Checks a photo item's metadata against its uploaded blob: present, uploaded by this user, same
 * size, and the type its bytes are (an image type, or OTHER_FILE_TYPE for anything else). A
 * folder entry (FOLDER_TYPE, size 0) must refer to the empty blob and needs no upload.
 */
export async function checkPhotoBlob(store: RecordStore, blobs: BlobStore, user: User, canonical: string): Promise<void> {
  const meta = JSON.parse(canonical) as { blob: string; size: number; type: string };
  if (meta.type === FOLDER_TYPE) {
    if (meta.blob !== FOLDER_BLOB) fail('invalid_content', `a folder (type ${FOLDER_TYPE}) refers to the empty blob ${FOLDER_BLOB}`, { field: 'blob' });
    return;
  }
  const st = (await store.hasBlobRef(user.id, meta.blob)) ? await blobs.stat(meta.blob) : null;
  if (!st) fail('blob_missing', `photo refers to blob ${meta.blob}, which was not uploaded; PUT /api/v1/blobs/${meta.blob} first`);
  if (st.size !== meta.size) fail('invalid_content', `photo size ${meta.size} differs from the blob's ${st.size} bytes`, { field: 'size' });
  const body = await blobs.get(meta.blob);
  let head: Uint8Array = new Uint8Array();
  if (body) for await (const chunk of body) { head = chunk; break; }
  const type = sniffImageType(head) ?? OTHER_FILE_TYPE;
  if (type !== meta.type) fail('invalid_content', `photo type "${meta.type}" differs from the blob's content (${type})`, { field: 'type' });
}
