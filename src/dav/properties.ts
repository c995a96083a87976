// Live DAV properties of the root, a user's principal/home, a collection and an item (RFC 4918, 4791, 6352, 6578, 5397).
import type { Collection, StoredItem } from '../core/model.js';
import { etagOf } from '../core/dav/dav-service.js';
import { collectionHref, homeHref } from './dav-paths.js';
import { clark, davElement, element, escapeXml, hrefElement, NS, propElement, type PropResult, statusLine } from './xml.js';

/** What a PROPFIND or REPORT can describe. */
export type DavResource =
  | { type: 'root' }
  | { type: 'home' }
  | { type: 'collection'; col: Collection }
  | { type: 'item'; col: Collection; item: StoredItem }
  /** A folder inside a photo collection; `item` is its folder item (null when only its members say it exists). */
  | { type: 'folder'; col: Collection; path: string; item: StoredItem | null };

/** Facts computed once per request that several properties need. */
export interface PropertyEnv {
  userName: string;
  syncToken: string;
  epoch: number;
  maxTextBytes: number;
  /** calendar-data / address-data of an item (REPORT may transform it, e.g. expand). */
  itemData?: (item: StoredItem, col: Collection) => string;
}

type Getter = (r: DavResource, env: PropertyEnv) => string | null;

const isCal = (r: DavResource) => r.type !== 'root' && r.type !== 'home' && (r.col.kind === 'calendar' || r.col.kind === 'tasks');
const isCard = (r: DavResource) => r.type !== 'root' && r.type !== 'home' && r.col.kind === 'contacts';

function contentType(col: Collection, item: StoredItem): string {
  if (col.kind === 'contacts') return 'text/vcard; charset=utf-8';
  if (col.kind === 'calendar') return 'text/calendar; charset=utf-8; component=vevent';
  if (col.kind === 'tasks') return 'text/calendar; charset=utf-8; component=vtodo';
  if (col.kind === 'photos') return (JSON.parse(item.content ?? '{}') as { type?: string }).type ?? 'application/octet-stream';
  return 'application/json';
}

function contentLength(col: Collection, item: StoredItem): number {
  if (col.kind === 'photos') return (JSON.parse(item.content ?? '{}') as { size?: number }).size ?? 0;
  return Buffer.byteLength(item.content ?? '', 'utf8');
}

/** The ctag (calendarserver.org) of a collection: changes whenever its live items change. */
export function ctagOf(col: Collection, epoch: number): string {
  return `"${epoch}-${col.count}-${col.digest}"`;
}

const PRIVILEGES = ['read', 'write', 'write-properties', 'write-content', 'bind', 'unbind', 'read-current-user-privilege-set']
  .map((p) => davElement('privilege', davElement(p)))
  .join('');

function reports(r: DavResource): string {
  if (r.type !== 'collection') return '';
  const names: Array<[string, string]> = [[NS.dav, 'sync-collection']];
  if (isCal(r)) names.push([NS.caldav, 'calendar-multiget'], [NS.caldav, 'calendar-query']);
  if (isCard(r)) names.push([NS.carddav, 'addressbook-multiget'], [NS.carddav, 'addressbook-query']);
  return names.map(([ns, n]) => davElement('supported-report', davElement('report', element(ns, n)))).join('');
}

/** Every live property: getter, and whether `allprop` includes it (RFC 4918 §9.1: not the expensive ones). */
const LIVE: Record<string, { get: Getter; allprop: boolean }> = {
  [clark(NS.dav, 'resourcetype')]: {
    allprop: true,
    get: (r) =>
      r.type === 'item'
        ? ''
        : r.type === 'folder'
          ? davElement('collection')
        : r.type === 'home'
          ? davElement('collection') + davElement('principal')
          : r.type === 'root'
            ? davElement('collection')
            : davElement('collection') + (isCal(r) ? element(NS.caldav, 'calendar') : isCard(r) ? element(NS.carddav, 'addressbook') : ''),
  },
  [clark(NS.dav, 'displayname')]: {
    allprop: true,
    get: (r, env) => (r.type === 'collection' ? escapeXml(r.col.name) : r.type === 'folder' ? escapeXml(r.path.slice(r.path.lastIndexOf('/') + 1)) : r.type === 'home' ? escapeXml(env.userName) : r.type === 'root' ? 'Keepsake' : null),
  },
  [clark(NS.dav, 'getetag')]: {
    allprop: true,
    get: (r, env) => (r.type === 'item' ? escapeXml(etagOf(r.item)) : r.type === 'collection' ? escapeXml(ctagOf(r.col, env.epoch)) : null),
  },
  [clark(NS.dav, 'getcontenttype')]: { allprop: true, get: (r) => (r.type === 'item' ? escapeXml(contentType(r.col, r.item)) : null) },
  [clark(NS.dav, 'getcontentlength')]: { allprop: true, get: (r) => (r.type === 'item' ? String(contentLength(r.col, r.item)) : null) },
  [clark(NS.dav, 'getlastmodified')]: {
    allprop: true,
    get: (r) => (r.type === 'item' || (r.type === 'folder' && r.item) ? new Date(r.item!.modified).toUTCString() : r.type === 'collection' && r.col.lastChangeAt ? new Date(r.col.lastChangeAt).toUTCString() : null),
  },
  [clark(NS.dav, 'creationdate')]: { allprop: true, get: (r) => (r.type === 'collection' ? r.col.createdAt : null) },
  [clark(NS.dav, 'current-user-principal')]: { allprop: false, get: (_r, env) => hrefElement(homeHref(env.userName)) },
  [clark(NS.dav, 'principal-URL')]: { allprop: false, get: (r, env) => (r.type === 'home' ? hrefElement(homeHref(env.userName)) : null) },
  [clark(NS.dav, 'principal-collection-set')]: { allprop: false, get: () => hrefElement('/dav/') },
  [clark(NS.dav, 'owner')]: { allprop: false, get: (r, env) => (r.type === 'root' ? null : hrefElement(homeHref(env.userName))) },
  [clark(NS.dav, 'current-user-privilege-set')]: { allprop: false, get: () => PRIVILEGES },
  [clark(NS.dav, 'supported-report-set')]: { allprop: false, get: (r) => (r.type === 'collection' ? reports(r) : r.type === 'home' ? '' : null) },
  [clark(NS.dav, 'sync-token')]: { allprop: false, get: (r, env) => (r.type === 'collection' ? escapeXml(env.syncToken) : null) },
  [clark(NS.cs, 'getctag')]: { allprop: false, get: (r, env) => (r.type === 'collection' ? escapeXml(ctagOf(r.col, env.epoch)) : null) },
  [clark(NS.caldav, 'calendar-home-set')]: { allprop: false, get: (r, env) => (r.type === 'home' || r.type === 'root' ? hrefElement(homeHref(env.userName)) : null) },
  [clark(NS.carddav, 'addressbook-home-set')]: { allprop: false, get: (r, env) => (r.type === 'home' || r.type === 'root' ? hrefElement(homeHref(env.userName)) : null) },
  [clark(NS.caldav, 'calendar-user-address-set')]: { allprop: false, get: (r, env) => (r.type === 'home' ? hrefElement(homeHref(env.userName)) : null) },
  [clark(NS.caldav, 'supported-calendar-component-set')]: {
    allprop: false,
    get: (r) => (r.type === 'collection' && isCal(r) ? element(NS.caldav, 'comp', '').replace('/>', ` name="${r.col.kind === 'tasks' ? 'VTODO' : 'VEVENT'}"/>`) : null),
  },
  [clark(NS.caldav, 'supported-calendar-data')]: {
    allprop: false,
    get: (r) => (r.type === 'collection' && isCal(r) ? '<C:calendar-data content-type="text/calendar" version="2.0"/>' : null),
  },
  [clark(NS.carddav, 'supported-address-data')]: {
    allprop: false,
    get: (r) =>
      r.type === 'collection' && isCard(r) ? '<CR:address-data-type content-type="text/vcard" version="3.0"/><CR:address-data-type content-type="text/vcard" version="4.0"/>' : null,
  },
  [clark(NS.caldav, 'max-resource-size')]: { allprop: false, get: (r, env) => (r.type === 'collection' && isCal(r) ? String(env.maxTextBytes) : null) },
  [clark(NS.carddav, 'max-resource-size')]: { allprop: false, get: (r, env) => (r.type === 'collection' && isCard(r) ? String(env.maxTextBytes) : null) },
  [clark(NS.caldav, 'calendar-data')]: {
    allprop: false,
    get: (r, env) => (r.type === 'item' && isCal(r) ? escapeXml(env.itemData ? env.itemData(r.item, r.col) : (r.item.content ?? '')) : null),
  },
  [clark(NS.carddav, 'address-data')]: {
    allprop: false,
    get: (r, env) => (r.type === 'item' && isCard(r) ? escapeXml(env.itemData ? env.itemData(r.item, r.col) : (r.item.content ?? '')) : null),
  },
};

/** Names of properties a resource has (for `propname`). */
export function propertyNames(r: DavResource, env: PropertyEnv, dead: Map<string, string>): string[] {
  return [...Object.keys(LIVE).filter((k) => LIVE[k].get(r, env) !== null), ...dead.keys()];
}

/** Properties that only the server sets: PROPPATCH on them fails with 403 (RFC 4918 §9.2, cannot-modify-protected-property). */
export function isProtected(key: string): boolean {
  return key in LIVE && key !== clark(NS.dav, 'displayname');
}

/**
 * The requested properties of one resource: `'allprop'` gives the cheap live ones plus dead
 * ones; a list gives those found (200) and the rest as 404.
 */
export function describe(href: string, r: DavResource, env: PropertyEnv, wanted: string[] | 'allprop' | 'propname', dead: Map<string, string> = new Map()): PropResult {
  const found = new Map<string, string>();
  const missing: string[] = [];
  if (wanted === 'propname') {
    for (const k of propertyNames(r, env, dead)) found.set(k, '');
    return { href, found, failed: new Map() };
  }
  const keys = wanted === 'allprop' ? [...Object.keys(LIVE).filter((k) => LIVE[k].allprop), ...dead.keys()] : wanted;
  for (const k of keys) {
    const live = LIVE[k];
    const v = live ? live.get(r, env) : (dead.get(k) ?? null);
    if (v === null) {
      if (wanted !== 'allprop') missing.push(k);
    } else found.set(k, v);
  }
  return { href, found, failed: new Map([[404, missing]]) };
}

/**
 * A fast writer of `<D:response>` elements for many resources without dead properties asking the
 * same list of properties (sync-collection and multiget of thousands of items): tags are built
 * once. Gives exactly what `responseElement(describe(...))` gives.
 */
export function responseWriter(wanted: string[], env: PropertyEnv): (href: string, r: DavResource) => string {
  const props = wanted.map((k) => {
    const [open, close] = propElement(k, '\u0000').split('\u0000');
    return { live: LIVE[k], empty: propElement(k, ''), open, close };
  });
  const ok = statusLine(200);
  const notFound = statusLine(404);
  return (href, r) => {
    let found = '';
    let missing = '';
    for (const p of props) {
      const v = p.live ? p.live.get(r, env) : null;
      if (v === null) missing += p.empty;
      else found += v === '' ? p.empty : p.open + v + p.close;
    }
    let stats = found === '' ? '' : `<D:propstat><D:prop>${found}</D:prop>${ok}</D:propstat>`;
    if (missing !== '') stats += `<D:propstat><D:prop>${missing}</D:prop>${notFound}</D:propstat>`;
    if (stats === '') stats = `<D:propstat><D:prop/>${ok}</D:propstat>`;
    return `<D:response>${hrefElement(href)}${stats}</D:response>`;
  };
}

/** The href of a resource in a user's space. */
export function hrefOf(userName: string, r: DavResource): string {
  if (r.type === 'root') return '/dav/';
  if (r.type === 'home') return homeHref(userName);
  return collectionHref(userName, r.col.id);
}
