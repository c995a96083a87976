// The folder tree of a photo collection as WebDAV shows it, built from the items' `path` and `name`.
import { randomUUID } from 'node:crypto';
import { FOLDER_TYPE } from '../content/photo-content.js';
import { checkId } from '../ids.js';
import type { StoredItem } from '../model.js';
import type { PhotoContent } from '../../protocol/sync-protocol.js';

/** One item of a photo collection at its place in the tree. */
export interface PhotoEntry {
  item: StoredItem;
  meta: PhotoContent;
  /** Where WebDAV shows it: folder path and name joined by `/` (never '' : that is the collection). */
  path: string;
  folder: boolean;
}

/** The folder part of a path ('' at the top). */
export function parentPath(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? '' : path.slice(0, i);
}

/** The last segment of a path. */
export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

export function joinPath(folder: string, name: string): string {
  return folder === '' ? name : `${folder}/${name}`;
}

/** True when `path` is `folder` itself or inside it. */
export function isWithin(path: string, folder: string): boolean {
  return folder === '' || path === folder || path.startsWith(folder + '/');
}

/** The path a photo's metadata places it at. */
export function pathOfMeta(meta: PhotoContent): string {
  return meta.path ? `${meta.path}/${meta.name}` : meta.name;
}

/** Metadata that places a photo at `path` (sets `name`, and `path` unless at the top). */
export function placeAt(meta: PhotoContent, path: string): PhotoContent {
  const out: PhotoContent = { ...meta, name: baseName(path) };
  const folder = parentPath(path);
  if (folder === '') delete out.path;
  else out.path = folder;
  return out;
}

/**
 * The id for a new item at `name`: the file name itself when it is a valid item id no item of the
 * collection uses (not even a tombstone: the trash keeps its item), else a random UUID. Ids never
 * hold `/`, so a folder path never leaks into an id.
 */
export async function newPhotoId(name: string, taken: (id: string) => Promise<boolean>): Promise<string> {
  let usable = true;
  try {
    checkId(name, 'id');
  } catch {
    usable = false;
  }
  return usable && !(await taken(name)) ? name : randomUUID();
}

/**
 * Live photo items arranged by path. Two items claiming one path (possible through the JSON API)
 * are both shown: the one with the smaller id at the path, the other as `<id>~<name>` beside it.
 * Folders exist when a folder item says so or when an item lies inside them.
 */
export class PhotoTree {
  private readonly byPath = new Map<string, PhotoEntry>();
  private readonly kids = new Map<string, Set<string>>();
  readonly byId = new Map<string, PhotoEntry>();

  constructor(items: StoredItem[]) {
    const sorted = [...items].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    for (const item of sorted) {
      if (item.deleted || item.content === null) continue;
      let meta: PhotoContent;
      try {
        meta = JSON.parse(item.content) as PhotoContent;
      } catch {
        continue; // damage: scrub names it; WebDAV cannot place it
      }
      if (typeof meta.name !== 'string') continue;
      let path = pathOfMeta(meta);
      if (this.byPath.has(path)) path = joinPath(parentPath(path), `${item.id}~${meta.name}`);
      const entry: PhotoEntry = { item, meta, path, folder: meta.type === FOLDER_TYPE };
      this.byPath.set(path, entry);
      this.byId.set(item.id, entry);
      this.link(path);
    }
  }

  private link(path: string): void {
    for (let p = path; p !== ''; ) {
      const parent = parentPath(p);
      let set = this.kids.get(parent);
      if (!set) this.kids.set(parent, (set = new Set()));
      if (set.has(p)) return;
      set.add(p);
      p = parent;
    }
  }

  /** The item at `path`, file or folder item; null for the collection, implicit folders and nothing. */
  entry(path: string): PhotoEntry | null {
    return this.byPath.get(path) ?? null;
  }

  /** True for the collection itself, a folder item, or a folder holding anything. */
  isFolder(path: string): boolean {
    if (path === '') return true;
    const e = this.byPath.get(path);
    return e ? e.folder : this.kids.has(path);
  }

  exists(path: string): boolean {
    return this.byPath.has(path) || this.kids.has(path);
  }

  /** Direct members of a folder: their paths, each with its item (null for an implicit folder). */
  children(folder: string): Array<{ path: string; entry: PhotoEntry | null }> {
    return [...(this.kids.get(folder) ?? [])].sort().map((path) => ({ path, entry: this.byPath.get(path) ?? null }));
  }

  /** Every item strictly inside `folder`, parents before their members. */
  inside(folder: string): PhotoEntry[] {
    const out: PhotoEntry[] = [];
    for (const [path, e] of this.byPath) if (path !== folder && isWithin(path, folder)) out.push(e);
    return out.sort((a, b) => a.path.split('/').length - b.path.split('/').length || (a.path < b.path ? -1 : 1));
  }

  /** Whether an item of the collection (live here; tombstones are checked by the caller) uses `id`. */
  hasId(id: string): boolean {
    return this.byId.has(id);
  }
}
