// WebDAV photo folders on the one store: files and subfolders are photos items (path + name in the
// metadata, bytes in the blob store), dead properties live in the item; deletes go to the trash.
import { randomUUID } from 'node:crypto';
import { FOLDER_TYPE, OTHER_FILE_TYPE } from '../content/photo-content.js';
import { IMAGE_SNIFF_BYTES, sniffImageType } from '../content/image-type.js';
import { canonicalizeContent } from '../content/validate-content.js';
import { fail } from '../errors.js';
import { contentHash } from '../hash.js';
import type { Collection, PreparedChange, StoredItem, User } from '../model.js';
import type { BlobStore } from '../ports/blob-store.js';
import { type Clock, isoNow } from '../ports/clock.js';
import type { RecordStore } from '../ports/record-store.js';
import type { PhotoContent } from '../../protocol/sync-protocol.js';
import { checkPreconditions, type DavDevice, type DavService, type DavWrite, type Preconditions } from './dav-service.js';
import { baseName, isWithin, newPhotoId, parentPath, type PhotoEntry, PhotoTree, placeAt } from './photo-tree.js';

/** The blob of a folder item: no bytes. */
export const EMPTY_BLOB = contentHash(new Uint8Array());

/** One item write of a batch: new content for `id`, or a delete (`content` null). */
interface PhotoChange {
  id: string;
  /** Version the change is based on (0 for a new item; a tombstone's version when reusing its id). */
  base: number;
  content: PhotoContent | null;
}

/** How a COPY or MOVE should go (RFC 4918 §9.8, §9.9). */
export interface Transfer {
  from: { col: Collection; path: string };
  to: { col: Collection; path: string };
  overwrite: boolean;
  /** COPY of a folder with Depth 0 copies the folder and its properties only. */
  shallow: boolean;
}

export class PhotoFolders {
  private readonly trees = new Map<string, { key: string; tree: PhotoTree }>();

  constructor(
    private readonly store: RecordStore,
    private readonly blobs: BlobStore,
    private readonly clock: Clock,
    private readonly dav: DavService,
    private readonly limits: { maxTextBytes: number; maxBlobBytes: number },
  ) {}

  /**
   * The collection's tree. Reused while the collection's digest, count and last change stay the
   * same (every committed item change moves them), so large photo collections are read once.
   */
  async tree(user: User, col: Collection): Promise<PhotoTree> {
    const fresh = await this.dav.collection(user, col.id);
    const key = `${fresh.count}|${fresh.digest}|${fresh.lastChangeAt}`;
    const cacheKey = `${user.id}\u0000${col.id}`;
    const hit = this.trees.get(cacheKey);
    // liveItems also answers `restoring` while the collection is not back from a backup.
    const items = hit && hit.key === key ? null : await this.dav.liveItems(user, col.id);
    if (!items) return hit!.tree;
    const tree = new PhotoTree(items);
    if (this.trees.size > 256) this.trees.clear();
    this.trees.set(cacheKey, { key, tree });
    return tree;
  }

  /** Stores bytes as the file at `path` (new, or replacing the file there; its properties stay). */
  async putFile(user: User, col: Collection, path: string, bytes: Buffer, pre: Preconditions): Promise<DavWrite> {
    const tree = await this.tree(user, col);
    const entry = tree.entry(path);
    if (entry?.folder || (!entry && tree.isFolder(path))) fail('method_not_allowed', `"${path}" is a folder; PUT a file inside it`);
    requireFolder(tree, parentPath(path));
    checkPreconditions(entry?.item ?? null, pre);
    const blob = await this.storeBytes(user, bytes);
    if (entry) {
      const { takenAt: _old, ...meta } = entry.meta;
      const [item] = await this.write(user, col, [{ id: entry.item.id, base: entry.item.version, content: { ...meta, ...blob } }]);
      return { created: false, version: item.version, hash: item.hash };
    }
    const { id, base } = await this.newId(user, col, baseName(path), new Set());
    const [item] = await this.write(user, col, [{ id, base, content: placeAt({ ...blob, name: '' }, path) }]);
    return { created: true, version: item.version, hash: item.hash };
  }

  /** MKCOL: a folder item at `path` (RFC 4918 §9.3: 405 if something is there, 409 without a parent). */
  async makeFolder(user: User, col: Collection, path: string): Promise<void> {
    const tree = await this.tree(user, col);
    if (tree.exists(path)) fail('method_not_allowed', `"${path}" already exists`);
    requireFolder(tree, parentPath(path));
    await this.storeBytes(user, Buffer.alloc(0));
    const { id, base } = await this.newId(user, col, baseName(path), new Set());
    await this.write(user, col, [{ id, base, content: placeAt(folderMeta(), path) }]);
  }

  /** DELETE of a file or a folder with everything inside it: each item goes to the trash, recorded for undo. */
  async remove(user: User, device: DavDevice, col: Collection, path: string, pre: Preconditions): Promise<void> {
    const tree = await this.tree(user, col);
    const entry = tree.entry(path);
    if (!entry && !tree.exists(path)) fail('not_found', `no file or folder "${path}"`);
    checkPreconditions(entry?.item ?? null, pre);
    await this.deleteEntries(user, device, col, [...(entry ? [entry] : []), ...tree.inside(path)]);
  }

  /** Sets (string) or removes (null) dead properties of the file or folder at `path`. */
  async setProperties(user: User, col: Collection, path: string, patch: Record<string, string | null>): Promise<void> {
    const tree = await this.tree(user, col);
    const entry = tree.entry(path);
    if (!entry && !tree.exists(path)) fail('not_found', `no file or folder "${path}"`);
    const meta = entry ? { ...entry.meta } : placeAt(folderMeta(), path);
    const props = { ...(meta.props ?? {}) };
    for (const [k, v] of Object.entries(patch)) {
      if (v === null) delete props[k];
      else props[k] = v;
    }
    if (Object.keys(props).length > 0) meta.props = props;
    else delete meta.props;
    if (!entry) await this.storeBytes(user, Buffer.alloc(0));
    const change = entry ? { id: entry.item.id, base: entry.item.version } : await this.newId(user, col, baseName(path), new Set());
    await this.write(user, col, [{ ...change, content: meta }]);
  }

  /**
   * COPY or MOVE a file or folder (with everything inside unless `shallow`). Returns whether the
   * destination existed (and was replaced, its items going to the trash). A move within one
   * collection rewrites the items' paths in place (same ids, the old paths kept as revisions); a
   * move to another collection copies and then deletes into the trash.
   */
  async transfer(user: User, device: DavDevice, t: Transfer, move: boolean): Promise<{ replaced: boolean }> {
    const { from, to } = t;
    const src = await this.tree(user, from.col);
    const srcEntry = src.entry(from.path);
    if (!srcEntry && !src.exists(from.path)) fail('not_found', `no file or folder "${from.path}"`);
    const sameCol = from.col.id === to.col.id;
    if (sameCol && isWithin(to.path, from.path)) fail('forbidden', 'the destination is the source or lies inside it');
    // Overwriting a folder that holds the source would delete the source first.
    if (sameCol && isWithin(from.path, to.path)) fail('forbidden', 'the destination is a folder holding the source');
    let dest = sameCol ? src : await this.tree(user, to.col);
    requireFolder(dest, parentPath(to.path));
    const replaced = dest.exists(to.path);
    if (replaced) {
      if (!t.overwrite) fail('precondition_failed', `"${to.path}" exists and Overwrite is F`);
      const doomed = dest.entry(to.path);
      await this.deleteEntries(user, device, to.col, [...(doomed ? [doomed] : []), ...dest.inside(to.path)]);
      dest = await this.tree(user, to.col);
    }
    const srcIsFolder = src.isFolder(from.path);
    const moving: Array<{ entry: PhotoEntry | null; path: string }> = [{ entry: srcEntry, path: to.path }];
    if (srcIsFolder && !(t.shallow && !move)) {
      for (const e of src.inside(from.path)) moving.push({ entry: e, path: to.path + e.path.slice(from.path.length) });
    }
    if (move && sameCol) {
      const changes: PhotoChange[] = [];
      for (const m of moving) {
        if (m.entry) changes.push({ id: m.entry.item.id, base: m.entry.item.version, content: placeAt(m.entry.meta, m.path) });
      }
      // An implicit folder (no item of its own) moves with its members; if it had none, it becomes one.
      if (!srcEntry && changes.length === 0) changes.push({ ...(await this.newId(user, to.col, baseName(to.path), new Set())), content: placeAt(folderMeta(), to.path) });
      if (!srcEntry) await this.storeBytes(user, Buffer.alloc(0));
      await this.write(user, to.col, changes);
      return { replaced };
    }
    const used = new Set<string>();
    const changes: PhotoChange[] = [];
    if (!srcEntry) await this.storeBytes(user, Buffer.alloc(0));
    for (const m of moving) {
      const content = m.entry ? placeAt(m.entry.meta, m.path) : placeAt(folderMeta(), m.path);
      changes.push({ ...(await this.newId(user, to.col, baseName(m.path), used)), content });
    }
    await this.write(user, to.col, changes);
    if (move) await this.deleteEntries(user, device, from.col, [...(srcEntry ? [srcEntry] : []), ...src.inside(from.path)]);
    return { replaced };
  }

  /** Bytes into the blob store (durable before the item names them) and readable by this user. */
  private async storeBytes(user: User, bytes: Buffer): Promise<{ blob: string; type: string; size: number }> {
    const blob = contentHash(bytes);
    // Sidecars, videos and other files are kept too, typed as what their bytes are, never as an image they are not.
    const type = bytes.length === 0 ? OTHER_FILE_TYPE : (sniffImageType(bytes.subarray(0, IMAGE_SNIFF_BYTES)) ?? OTHER_FILE_TYPE);
    await this.blobs.put(blob, (async function* () {
      yield bytes;
    })(), { maxBytes: this.limits.maxBlobBytes });
    await this.store.addBlobRef(user.id, blob);
    return { blob, type, size: bytes.length };
  }

  /** An id for a new item called `name`, and the version to base it on. */
  private async newId(user: User, col: Collection, name: string, used: Set<string>): Promise<{ id: string; base: number }> {
    const id = await newPhotoId(name, async (id) => used.has(id) || (await this.store.getItem(user.id, col.id, id)) !== null);
    used.add(id);
    return { id, base: 0 };
  }

  private async deleteEntries(user: User, device: DavDevice, col: Collection, entries: PhotoEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const written = await this.write(user, col, entries.map((e) => ({ id: e.item.id, base: e.item.version, content: null })));
    await this.dav.recordDeletes(user, device, col, written.map((w) => ({ id: w.id, version: w.version })));
  }

  /**
   * Validates and applies a batch in one store call (one transaction and fsync). Every change is
   * checked before anything is written; a change that lost a race fails the request with
   * `precondition_failed` (what it would have replaced is untouched, the losing content is kept).
   */
  private async write(user: User, col: Collection, changes: PhotoChange[]): Promise<StoredItem[]> {
    const prepared: PreparedChange[] = changes.map((c) => {
      const canonical = c.content === null ? null : canonicalizeContent('photos', c.id, c.content, this.limits);
      return {
        changeId: `dav-${randomUUID()}`,
        collection: col.id,
        id: c.id,
        baseVersion: c.base,
        deleted: c.content === null,
        content: canonical?.text ?? null,
        hash: canonical?.hash ?? null,
      };
    });
    const outcomes = await this.store.applyChanges(user.id, prepared, isoNow(this.clock));
    const out: StoredItem[] = [];
    for (const [n, o] of outcomes.entries()) {
      if (o.status === 'applied') out.push(o.item);
      else fail('precondition_failed', `"${prepared[n].id}" was changed by another client at the same moment (${o.status}); retry`);
    }
    return out;
  }
}

function folderMeta(): PhotoContent {
  return { blob: EMPTY_BLOB, name: '', type: FOLDER_TYPE, size: 0 };
}

/** RFC 4918 §9.3.1 / §9.7.1: creating something needs its parent folder (409 otherwise). */
function requireFolder(tree: PhotoTree, folder: string): void {
  if (!tree.isFolder(folder)) fail('parent_missing', `there is no folder "${folder}" to put it in`);
}

