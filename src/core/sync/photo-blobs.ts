// Photo bytes: upload with hash and type checks, reads only by users who uploaded them.
import { IMAGE_SNIFF_BYTES, sniffImageType } from '../content/image-type.js';
import { fail } from '../errors.js';
import { isContentHash } from '../hash.js';
import type { User } from '../model.js';
import type { BlobStore } from '../ports/blob-store.js';
import type { RecordStore } from '../ports/record-store.js';

/** Passes bytes through, refusing the stream early unless it starts like a supported image. */
async function* sniffing(source: AsyncIterable<Uint8Array>, onType: (t: string) => void): AsyncIterable<Uint8Array> {
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
    if (!t) fail('blob_type_unsupported', 'the bytes are not a JPEG, PNG, HEIC, WebP or GIF image');
    onType(t);
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

  /** Streams an upload into the blob store; the hash, size and type are checked before it becomes visible. */
  async upload(user: User, hash: string, source: AsyncIterable<Uint8Array>): Promise<UploadedBlob> {
    if (!isContentHash(hash)) fail('invalid_request', 'blob name must be sha256:<64 lowercase hex digits>', { field: 'hash' });
    let type = '';
    const r = await this.blobs.put(hash, sniffing(source, (t) => (type = t)), { maxBytes: this.maxBytes });
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
    return { size: st.size, type: sniffImageType(head) ?? 'application/octet-stream', body: rest() };
  }
}

/** Checks a photo item's metadata against its uploaded blob: present, uploaded by this user, same size and type. */
export async function checkPhotoBlob(store: RecordStore, blobs: BlobStore, user: User, canonical: string): Promise<void> {
  const meta = JSON.parse(canonical) as { blob: string; size: number; type: string };
  const st = (await store.hasBlobRef(user.id, meta.blob)) ? await blobs.stat(meta.blob) : null;
  if (!st) fail('blob_missing', `photo refers to blob ${meta.blob}, which was not uploaded; PUT /api/v1/blobs/${meta.blob} first`);
  if (st.size !== meta.size) fail('invalid_content', `photo size ${meta.size} differs from the blob's ${st.size} bytes`, { field: 'size' });
  const body = await blobs.get(meta.blob);
  let head: Uint8Array = new Uint8Array();
  if (body) for await (const chunk of body) { head = chunk; break; }
  const type = sniffImageType(head);
  if (type !== meta.type) fail('invalid_content', `photo type "${meta.type}" differs from the blob's content (${type ?? 'unknown'})`, { field: 'type' });
}
