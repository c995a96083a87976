// DAV URLs: /dav/<user>/ is a user's principal and home; /dav/<user>/<collection>/<resource> the rest.
import { fail } from '../core/errors.js';
import type { Kind } from '../core/kinds.js';

export const DAV_ROOT = '/dav/';

/** What a request path names. */
export type DavTarget =
  | { type: 'root' }
  | { type: 'home'; user: string }
  | { type: 'collection'; user: string; collection: string }
  /** `parents`: folders between the collection and the resource (only photo collections have folders). */
  | { type: 'item'; user: string; collection: string; name: string; parents: string[] };

/** Percent-encodes one path segment, leaving the characters UIDs use often (`@`, `:`) readable. */
export function encodeSegment(s: string): string {
  return encodeURIComponent(s).replace(/%40/g, '@').replace(/%3A/gi, ':').replace(/%2B/gi, '+');
}

function decodeSegment(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    fail('not_found', `the path segment "${s.slice(0, 80)}" is not valid percent-encoding`);
  }
}

/** Parses the path of a request URL or of an href (absolute URL or absolute path). */
export function parseDavPath(url: string): DavTarget {
  let path = url;
  if (/^https?:\/\//i.test(path)) path = new URL(path).pathname;
  path = path.split('?')[0].split('#')[0];
  if (!path.startsWith('/dav')) fail('not_found', `"${path.slice(0, 80)}" is not under ${DAV_ROOT}`);
  const segments = path.slice('/dav'.length).split('/').filter((s) => s !== '').map(decodeSegment);
  if (segments.length === 0) return { type: 'root' };
  if (segments.length === 1) return { type: 'home', user: segments[0] };
  if (segments.length === 2) return { type: 'collection', user: segments[0], collection: segments[1] };
  return { type: 'item', user: segments[0], collection: segments[1], name: segments[segments.length - 1], parents: segments.slice(2, -1) };
}

/** The path of a target inside its collection: '' for the collection, else its segments joined by `/`. */
export function pathInCollection(t: DavTarget): string {
  return t.type === 'item' ? [...t.parents, t.name].join('/') : '';
}

export function homeHref(user: string): string {
  return `${DAV_ROOT}${encodeSegment(user)}/`;
}

export function collectionHref(user: string, collection: string): string {
  return `${homeHref(user)}${encodeSegment(collection)}/`;
}

/** File extension of a kind's resources: `.vcf` for contacts, `.ics` for events and tasks, none for photos. */
export function extensionOf(kind: Kind): string {
  return kind === 'contacts' ? '.vcf' : kind === 'calendar' || kind === 'tasks' ? '.ics' : '';
}

/** The href of a file or folder `path` (segments joined by `/`) inside a photo collection; folders end in `/`. */
export function photoHref(user: string, collection: string, path: string, folder: boolean): string {
  if (path === '') return collectionHref(user, collection);
  return collectionHref(user, collection) + path.split('/').map(encodeSegment).join('/') + (folder ? '/' : '');
}

export function itemHref(user: string, collection: string, kind: Kind, id: string): string {
  return `${collectionHref(user, collection)}${encodeSegment(id)}${extensionOf(kind)}`;
}

/** The item id a resource name stands for: the name without the kind's extension. */
export function itemIdOf(kind: Kind, name: string): string {
  const ext = extensionOf(kind);
  return ext && name.toLowerCase().endsWith(ext) ? name.slice(0, -ext.length) : name;
}
